import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('time_zones');

describe('date operators with a timezone', () => {
  it('read Olson names of any shape, UTC and offsets, with the offset in force at each date (DST)', async () => {
    const events = suite.db.collection('events');
    await events.insertMany([
      // Paris moves from +01:00 to +02:00 at 01:00 UTC on 2026-03-29.
      { at: new Date('2026-03-28T23:30:00Z') },
      { at: new Date('2026-03-29T00:30:00Z') },
      { at: new Date('2026-03-29T22:30:00Z') },
    ]);
    const localTimes = async (timezone: string): Promise<string[]> =>
      (
        await events
          .aggregate<{ local: string }>([
            { $sort: { at: 1 } },
            {
              $project: {
                _id: 0,
                local: { $dateToString: { format: '%Y-%m-%d %H:%M %z', date: '$at', timezone } },
              },
            },
          ])
          .toArray()
      ).map((row) => row.local);
    expect(await localTimes('Europe/Paris')).toEqual([
      '2026-03-29 00:30 +0100',
      '2026-03-29 01:30 +0100',
      '2026-03-30 00:30 +0200',
    ]);
    expect(await localTimes('UTC')).toEqual([
      '2026-03-28 23:30 +0000',
      '2026-03-29 00:30 +0000',
      '2026-03-29 22:30 +0000',
    ]);
    expect(await localTimes('America/Argentina/Buenos_Aires')).toEqual([
      '2026-03-28 20:30 -0300',
      '2026-03-28 21:30 -0300',
      '2026-03-29 19:30 -0300',
    ]);
    expect(await localTimes('+05:30')).toEqual([
      '2026-03-29 05:00 +0530',
      '2026-03-29 06:00 +0530',
      '2026-03-30 04:00 +0530',
    ]);
    const hours = await events
      .aggregate<{ hour: number }>([
        { $sort: { at: 1 } },
        { $project: { _id: 0, hour: { $hour: { date: '$at', timezone: 'Asia/Kolkata' } } } },
      ])
      .toArray();
    expect(hours.map((row) => row.hour)).toEqual([5, 6, 4]);
    const days = await events
      .aggregate([
        {
          $group: {
            _id: { $dateToString: { format: '%Y-%m-%d', date: '$at', timezone: 'Europe/Paris' } },
            n: { $sum: 1 },
          },
        },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(days).toEqual([
      { _id: '2026-03-29', n: 2 },
      { _id: '2026-03-30', n: 1 },
    ]);
  });

  it('refuses an unknown timezone with code 40485', async () => {
    const events = suite.db.collection('events_unknown_zone');
    await events.insertOne({ at: new Date() });
    await expect(
      events
        .aggregate([
          {
            $project: {
              day: { $dateToString: { format: '%Y', date: '$at', timezone: 'Mars/Olympus_Mons' } },
            },
          },
        ])
        .toArray(),
    ).rejects.toMatchObject({ code: 40485 });
  });
});
