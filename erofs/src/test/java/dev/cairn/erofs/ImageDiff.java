package dev.cairn.erofs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Explains a mismatch between two EROFS images: the first differing offset and the structure the
 * reference image has there (superblock field, inode of a path, its xattrs or inline tail, a
 * directory block, file data). Reads only what it needs of the reference image, defensively.
 */
final class ImageDiff {
    private record Region(long start, long end, String what) {
    }

    private ImageDiff() {
    }

    static String describe(byte[] expected, byte[] actual) {
        int n = Math.min(expected.length, actual.length);
        int first = -1;
        for (int i = 0; i < n; i++) {
            if (expected[i] != actual[i]) {
                first = i;
                break;
            }
        }
        if (first < 0) {
            return expected.length == actual.length ? "identical"
                    : "sizes differ: expected " + expected.length + ", actual " + actual.length;
        }
        String where;
        try {
            where = locate(expected, first);
        } catch (RuntimeException e) {
            where = "unknown (reference image not walkable: " + e + ")";
        }
        return String.format("first difference at offset %d (0x%x): expected %02x, actual %02x, in %s; sizes %d/%d",
                first, first, expected[first] & 0xFF, actual[first] & 0xFF, where, expected.length, actual.length);
    }

    private static final String[] SB_FIELDS = {"magic", "checksum", "feature_compat", "blkszbits/extslots/root_nid",
        "inos", "inos", "build_time", "build_time", "build_time_nsec", "blocks", "meta_blkaddr", "xattr_blkaddr",
        "uuid", "uuid", "uuid", "uuid", "volume_name", "volume_name", "volume_name", "volume_name",
        "feature_incompat"};

    static String locate(byte[] img, long off) {
        if (off < 1024) {
            return "the boot area before the superblock";
        }
        if (off < 1024 + 128) {
            int f = (int) (off - 1024) / 4;
            return "superblock field " + (f < SB_FIELDS.length ? SB_FIELDS[f] : "(reserved/extended)");
        }
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        int blkszbits = img[1024 + 12];
        long bs = 1L << blkszbits;
        long meta = (b.getInt(1024 + 40) & 0xFFFF_FFFFL) * bs;
        List<Region> regions = new ArrayList<>();
        Deque<Object[]> todo = new ArrayDeque<>();
        Set<Long> seen = new HashSet<>();
        todo.add(new Object[] {(long) (b.getShort(1024 + 14) & 0xFFFF), "/"});
        while (!todo.isEmpty() && regions.size() < 1_000_000) {
            Object[] t = todo.poll();
            long nid = (Long) t[0];
            String path = (String) t[1];
            if (!seen.add(nid)) {
                continue;
            }
            int pos = (int) (meta + nid * 32);
            int format = b.getShort(pos) & 0xFFFF;
            boolean ext = (format & 1) != 0;
            int layout = (format >> 1) & 7;
            int isize = ext ? 64 : 32;
            int icount = b.getShort(pos + 2) & 0xFFFF;
            int xsize = icount == 0 ? 0 : 12 + (icount - 1) * 4;
            int mode = b.getShort(pos + 4) & 0xFFFF;
            long size = ext ? b.getLong(pos + 8) : b.getInt(pos + 8) & 0xFFFF_FFFFL;
            long blk = b.getInt(pos + 16) & 0xFFFF_FFFFL;
            regions.add(new Region(pos, pos + isize, (ext ? "extended" : "compact") + " inode nid " + nid + " " + path));
            if (xsize > 0) {
                regions.add(new Region(pos + isize, pos + isize + xsize, "inline xattrs of " + path));
            }
            int type = mode & 0170000;
            boolean data = type == 0100000 || type == 0040000 || type == 0120000;
            if (!data) {
                continue;
            }
            long full = layout == 2 ? size / bs : (size + bs - 1) / bs;
            if (full > 0) {
                regions.add(new Region(blk * bs, (blk + full) * bs, (type == 0040000 ? "directory blocks of " : "data of ")
                        + path));
            }
            long tailStart = pos + isize + xsize;
            if (layout == 2 && size % bs != 0) {
                regions.add(new Region(tailStart, tailStart + size % bs, "inline tail of " + path));
            }
            if (type == 0040000) {
                for (long o = 0; o < size; o += bs) {
                    long boff = (layout == 2 && o + bs > size) ? tailStart : blk * bs + o;
                    int len = (int) Math.min(bs, size - o);
                    int nameoff0 = b.getShort((int) boff + 8) & 0xFFFF;
                    int count = nameoff0 / 12;
                    for (int i = 0; i < count; i++) {
                        int de = (int) boff + i * 12;
                        long cnid = b.getLong(de);
                        int no = b.getShort(de + 8) & 0xFFFF;
                        int ne = i + 1 < count ? b.getShort(de + 12 + 8) & 0xFFFF : len;
                        int e = no;
                        while (e < ne && img[(int) boff + e] != 0) {
                            e++;
                        }
                        String name = new String(img, (int) boff + no, e - no, StandardCharsets.ISO_8859_1);
                        if (!name.equals(".") && !name.equals("..")) {
                            todo.add(new Object[] {cnid, path.equals("/") ? "/" + name : path + "/" + name});
                        }
                    }
                }
            }
        }
        for (Region r : regions) {
            if (off >= r.start() && off < r.end()) {
                return r.what() + " (+" + (off - r.start()) + ")";
            }
        }
        return "no structure of the reference image (padding or unreferenced blocks), block " + (off / bs);
    }
}
