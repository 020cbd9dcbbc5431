const OFFSET = /^([+-])(\d{2})(?::?(\d{2}))?$/;
const BUCKET_MS = 15 * 60 * 1000;
const MAX_CACHED_OFFSETS = 50_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

/** Thrown for a timezone that is neither a known Olson name nor an offset. */
export class UnknownTimeZoneError extends Error {}

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new UnknownTimeZoneError(`unrecognized time zone identifier: "${zone}"`);
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall-clock date and time in `zone` at `date`, as numbers. */
export function wallClockIn(
  zone: string,
  date: Date,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(
    formatterOf(zone)
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/**
 * Minutes east of UTC of `zone` at `date`: an Olson name (UTC, Europe/Paris, America/Argentina/Buenos_Aires,
 * Etc/GMT+5, ...) or an offset (+02, +0530, -03:30), as MongoDB reads timezones. Offsets of named zones are
 * cached per quarter hour, the finest step at which zones change theirs.
 */
export function zoneOffsetMinutes(zone: string, date: Date): number {
  const fixed = OFFSET.exec(zone);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3] ?? 0);
    return fixed[1] === '-' ? -minutes : minutes;
  }
  const bucket = Math.floor(date.getTime() / BUCKET_MS);
  const key = `${zone}@${bucket}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const at = new Date(bucket * BUCKET_MS);
  const { year, month, day, hour, minute, second } = wallClockIn(zone, at);
  const minutes = Math.round((Date.UTC(year, month - 1, day, hour, minute, second) - at.getTime()) / 60_000);
  if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear();
  offsets.set(key, minutes);
  return minutes;
}
