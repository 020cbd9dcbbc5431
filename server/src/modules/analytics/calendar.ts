import { wallClockIn, zoneOffsetMinutes } from '@gen3d/shared/time-zones';

/** The last `days` calendar days in `zone`, today included, and the instant the first one began. */
export function dayWindow(days: number, zone: string, now = new Date()): { from: Date; dates: string[] } {
  const today = wallClockIn(zone, now);
  const dates = Array.from({ length: days }, (_, index) =>
    new Date(Date.UTC(today.year, today.month - 1, today.day - (days - 1 - index)))
      .toISOString()
      .slice(0, 10),
  );
  // Local midnight of the first day: its UTC reading shifted by the zone's offset, checked again at the
  // shifted instant in case a daylight-saving change lies in between.
  const midnightAsUtc = Date.UTC(today.year, today.month - 1, today.day - (days - 1));
  const first = midnightAsUtc - zoneOffsetMinutes(zone, new Date(midnightAsUtc)) * 60_000;
  const from = midnightAsUtc - zoneOffsetMinutes(zone, new Date(first)) * 60_000;
  return { from: new Date(from), dates };
}
