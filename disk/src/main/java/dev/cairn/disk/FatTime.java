package dev.cairn.disk;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * A FAT date and time (fatgen103 §6.3.6) in UTC: date = (year-1980)<<9 | month<<5 | day,
 * time = hour<<11 | minute<<5 | second/2, and the 10 ms "tenths" field carrying the odd second
 * (100) as the Linux kernel writes it. Times before 1980-01-01 clamp to it (as mkfs.fat does),
 * times after 2107-12-31 23:59:59 to that.
 */
record FatTime(int date, int time, int tenths) {
    static final long MIN_EPOCH = 315_532_800L;       // 1980-01-01T00:00:00Z
    static final long MAX_EPOCH = 4_354_819_199L;     // 2107-12-31T23:59:59Z

    static FatTime of(long epochSeconds) {
        long t = Math.max(MIN_EPOCH, Math.min(MAX_EPOCH, epochSeconds));
        LocalDateTime d = LocalDateTime.ofEpochSecond(t, 0, ZoneOffset.UTC);
        int date = (d.getYear() - 1980) << 9 | d.getMonthValue() << 5 | d.getDayOfMonth();
        int time = d.getHour() << 11 | d.getMinute() << 5 | d.getSecond() / 2;
        return new FatTime(date, time, (d.getSecond() & 1) * 100);
    }

    /** Unix seconds of a FAT date and time (UTC), or -1 when the fields are not a valid date. */
    static long toEpoch(int date, int time) {
        int year = 1980 + (date >>> 9);
        int month = (date >>> 5) & 0x0F;
        int day = date & 0x1F;
        int hour = time >>> 11;
        int minute = (time >>> 5) & 0x3F;
        int second = (time & 0x1F) * 2;
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second).toEpochSecond(ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            return -1;
        }
    }
}
