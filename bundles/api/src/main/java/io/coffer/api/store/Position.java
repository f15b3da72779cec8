package io.coffer.api.store;

import java.util.Objects;

/**
 * A place in the replicated log: PostgreSQL timeline and WAL position, written {@code timeline/XXX/YYY} (the LSN as
 * PostgreSQL prints it). Comparison is timeline-aware: positions on different timelines are ordered by timeline,
 * because a node on a later timeline descends from the promotion of a synchronous Standby and so holds every
 * acknowledged write of the earlier one (architecture §5, §8). Immutable.
 */
public final class Position implements Comparable<Position> {
    private final long timeline;
    private final long lsn;

    /**
     * @param timeline PostgreSQL timeline id (1 or more)
     * @param lsn the WAL position as a 64-bit number
     */
    public Position(long timeline, long lsn) {
        this.timeline = timeline;
        this.lsn = lsn;
    }

    /**
     * @param text {@code timeline/XXX/YYY}, e.g. {@code 1/0/16B3748}
     * @return the position
     * @throws IllegalArgumentException when the text is not one
     */
    public static Position parse(String text) {
        if (text == null || text.length() > 64) {
            throw new IllegalArgumentException("not a position");
        }
        String[] p = text.trim().split("/");
        if (p.length != 3 || !p[0].matches("[0-9]{1,10}") || !p[1].matches("[0-9A-Fa-f]{1,8}")
                || !p[2].matches("[0-9A-Fa-f]{1,8}")) {
            throw new IllegalArgumentException("not a position: expected timeline/XXX/YYY");
        }
        return new Position(Long.parseLong(p[0]), lsn(p[1] + "/" + p[2]));
    }

    /**
     * @param pgLsn an LSN as PostgreSQL prints it, {@code XXX/YYY}
     * @return it as a number
     */
    public static long lsn(String pgLsn) {
        int slash = pgLsn.indexOf('/');
        return (Long.parseLong(pgLsn.substring(0, slash), 16) << 32) | Long.parseLong(pgLsn.substring(slash + 1), 16);
    }

    /** @return the timeline */
    public long timeline() {
        return timeline;
    }

    /** @return the WAL position */
    public long lsn() {
        return lsn;
    }

    @Override
    public int compareTo(Position o) {
        return timeline != o.timeline ? Long.compare(timeline, o.timeline) : Long.compareUnsigned(lsn, o.lsn);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Position && ((Position) o).timeline == timeline && ((Position) o).lsn == lsn;
    }

    @Override
    public int hashCode() {
        return Objects.hash(timeline, lsn);
    }

    @Override
    public String toString() {
        return timeline + "/" + Long.toHexString(lsn >>> 32).toUpperCase() + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }
}
