package dev.cairn.disk;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Reads a FAT32 file system from an untrusted image (or a partition inside one): lists every file
 * and directory and reads files. Everything taken from the image is checked before use: the boot
 * sector's geometry against the image size, every cluster number against the cluster count, every
 * chain against the size it must have (so a looping or cross-linked chain ends in a
 * {@link FormatException} instead of a hang), directories against a 2 MiB (65536-entry) maximum
 * and against being visited twice (directory loops), the listing against {@value #MAX_ENTRIES}
 * entries and {@value #MAX_DEPTH} levels, and file sizes against the data area. Memory is bounded
 * by one cluster, one 64 KiB FAT window and the listing; work by the image size.
 *
 * <p>Only FAT32 is read (BPB_FATSz16 = 0); FAT12/16 is an {@link UnsupportedFeatureException}.
 * Long names whose checksum or sequence does not match their short entry are ignored (the short
 * name is used), as the Linux kernel does.
 */
public final class FatReader {
    public static final int MAX_ENTRIES = 1 << 20;
    public static final int MAX_DEPTH = 128;
    /** PATH_MAX: a longer path is refused (deep nesting of long names would otherwise build huge strings). */
    public static final int MAX_PATH = 4096;
    /** All paths of a listing together, in characters. */
    public static final long MAX_LISTING_CHARS = 16L << 20;
    static final int MAX_DIR_BYTES = 65536 * 32;
    /** FAT_MAX_FAT16_CLUSTER: fewer clusters make a FAT12/16 file system, whatever the BPB says. */
    static final long MIN_FAT32_CLUSTERS = 65525;
    private static final int FAT_WINDOW = 64 * 1024;
    private static final long EOC_MIN = 0x0FFF_FFF8L;
    private static final long BAD = 0x0FFF_FFF7L;

    private final SeekableByteChannel in;
    private final long base;
    private final int bytesPerSector;
    private final int clusterBytes;
    private final long fatOffset;
    private final long fatBytes;
    private final long dataOffset;
    private final long clusterCount;
    private final long rootCluster;
    private final int volumeId;
    private final String volumeLabel;
    private final List<String> uefiRefusals;
    private final byte[] window = new byte[FAT_WINDOW];
    private long windowStart = -1;
    private List<FatFile> listing;
    private long listingChars;

    private FatReader(SeekableByteChannel in, long base, FatBootSector bs, long fatOffset, long fatBytes, long dataOffset,
                      long clusterCount) {
        this.in = in;
        this.base = base;
        this.bytesPerSector = bs.bytesPerSector();
        this.clusterBytes = bs.bytesPerSector() * bs.sectorsPerCluster();
        this.fatOffset = fatOffset;
        this.fatBytes = fatBytes;
        this.dataOffset = dataOffset;
        this.clusterCount = clusterCount;
        this.rootCluster = bs.rootCluster();
        this.volumeId = bs.volumeId();
        this.volumeLabel = new String(bs.volumeLabel(), StandardCharsets.ISO_8859_1).stripTrailing();
        List<String> refusals = new ArrayList<>();
        if (bs.fsVersion() != 0) {
            refusals.add("BPB_FSVer " + bs.fsVersion() + " is not 0");
        }
        if ((bs.extFlags() & 0x80) != 0) {
            refusals.add("FAT mirroring is disabled (BPB_ExtFlags " + String.format("0x%04x", bs.extFlags()) + ")");
        }
        if (clusterCount < MIN_FAT32_CLUSTERS) {
            refusals.add(clusterCount + " clusters, fewer than FAT32's " + MIN_FAT32_CLUSTERS);
        }
        int media = bs.media();
        if (media <= 0xF7 && media != 0xF0 && media != 0x00 && media != 0x01) {
            refusals.add("media byte " + String.format("0x%02X", media));
        }
        this.uefiRefusals = List.copyOf(refusals);
    }

    /** The file system filling the whole channel. */
    public static FatReader open(SeekableByteChannel in) throws IOException {
        return open(in, 0, in.size());
    }

    /** The file system at {@code offset} in the channel, at most {@code length} bytes (a partition). */
    public static FatReader open(SeekableByteChannel in, long offset, long length) throws IOException {
        Objects.requireNonNull(in, "in");
        if (offset < 0 || length < 0 || offset > in.size() || length > in.size() - offset) {
            throw new FormatException(offset, "partition", length + " bytes", "lies outside the " + in.size() + "-byte image");
        }
        if (length < 512) {
            throw new FormatException(offset, "size", length, "too small for a FAT file system");
        }
        byte[] sector = read(in, offset, 512, "boot sector");
        FatBootSector bs = FatBootSector.decode(sector, offset);
        int bps = bs.bytesPerSector();
        if (bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) {
            throw new FormatException(offset + FatBootSector.OFF_BYTES_PER_SECTOR, "BPB_BytsPerSec", bps,
                    "bytes per sector must be 512, 1024, 2048 or 4096");
        }
        int spc = bs.sectorsPerCluster();
        if (spc == 0 || Integer.bitCount(spc) != 1) {
            throw new FormatException(offset + FatBootSector.OFF_SEC_PER_CLUS, "BPB_SecPerClus", spc,
                    "sectors per cluster must be a power of two up to 128");
        }
        if (bs.reservedSectors() == 0) {
            throw new FormatException(offset + FatBootSector.OFF_RESERVED, "BPB_RsvdSecCnt", 0, "no reserved sectors");
        }
        if (bs.numFats() == 0 || bs.numFats() > 4) {
            throw new FormatException(offset + FatBootSector.OFF_NUM_FATS, "BPB_NumFATs", bs.numFats(), "number of FATs must be 1-4");
        }
        if (bs.fatSize16() != 0 || bs.rootEntryCount() != 0) {
            throw new UnsupportedFeatureException("BPB_FATSz16", bs.fatSize16(), "FAT12/FAT16 file systems are not supported, only FAT32");
        }
        long fatSectors = bs.fatSize32();
        if (fatSectors == 0) {
            throw new FormatException(offset + FatBootSector.OFF_FAT_SZ32, "BPB_FATSz32", 0, "FAT size is zero");
        }
        long total = bs.totalSectors16() != 0 ? bs.totalSectors16() : bs.totalSectors32();
        if (total == 0 || total > length / bps) {
            throw new FormatException(offset + FatBootSector.OFF_TOT_SEC32, "BPB_TotSec32", total,
                    "file system size is zero or larger than the " + length + " bytes it lies in");
        }
        long dataStart = bs.reservedSectors() + bs.numFats() * fatSectors;
        if (dataStart >= total) {
            throw new FormatException(offset + FatBootSector.OFF_FAT_SZ32, "BPB_FATSz32", fatSectors,
                    "reserved sectors and FATs fill the whole file system");
        }
        long clusters = (total - dataStart) / spc;
        if (clusters < 1 || clusters > 0x0FFF_FFF5L) {
            throw new FormatException(offset + FatBootSector.OFF_TOT_SEC32, "cluster count", clusters, "absurd number of clusters");
        }
        if (fatSectors * bps / 4 < clusters + 2) {
            throw new FormatException(offset + FatBootSector.OFF_FAT_SZ32, "BPB_FATSz32", fatSectors,
                    "FAT too small for the " + clusters + " clusters");
        }
        if (bs.rootCluster() < 2 || bs.rootCluster() > clusters + 1) {
            throw new FormatException(offset + FatBootSector.OFF_ROOT_CLUS, "BPB_RootClus", bs.rootCluster(),
                    "root directory cluster out of range 2.." + (clusters + 1));
        }
        int active = 0;
        if ((bs.extFlags() & 0x80) != 0) {
            active = bs.extFlags() & 0x0F;
            if (active >= bs.numFats()) {
                throw new FormatException(offset + FatBootSector.OFF_EXT_FLAGS, "BPB_ExtFlags", bs.extFlags(), "active FAT does not exist");
            }
        }
        long fatOffset = offset + (bs.reservedSectors() + active * fatSectors) * bps;
        long usedFatBytes = Math.min(fatSectors * bps, (clusters + 2) * 4);
        return new FatReader(in, offset, bs, fatOffset, usedFatBytes, offset + dataStart * bps, clusters);
    }

    /** Where the file system starts in the channel. */
    public long offset() {
        return base;
    }

    public int volumeId() {
        return volumeId;
    }

    /** BS_VolLab without trailing spaces. */
    public String volumeLabel() {
        return volumeLabel;
    }

    public long clusterCount() {
        return clusterCount;
    }

    public int clusterBytes() {
        return clusterBytes;
    }

    /**
     * Why UEFI firmware would not mount this file system, beyond the damage {@link #open} refuses
     * itself; empty when it would. These are the refusals of EDK2's FAT driver
     * ({@code FatPkg/EnhancedFatDxe/Init.c}, {@code FatOpenDevice}; OVMF's) that this reader, like
     * Linux, reads past: a FAT32 version other than 0, FAT mirroring disabled (BPB_ExtFlags bit 7),
     * fewer than 65 525 clusters (then it is not FAT32), a media byte below 0xF8 other than 0xF0
     * (0x00 and 0x01 pass too).
     */
    public List<String> uefiRefusals() {
        return uefiRefusals;
    }

    /** Every file and directory (not the root), depth-first in directory order. */
    public List<FatFile> list() throws IOException {
        if (listing == null) {
            List<FatFile> out = new ArrayList<>();
            Set<Long> visited = new HashSet<>();
            visited.add(rootCluster);
            Set<Long> dirClusters = new HashSet<>();
            walk(rootCluster, "", 0, visited, dirClusters, out);
            claimClusters(out, dirClusters);
            listing = List.copyOf(out);
        }
        return listing;
    }

    /**
     * Every cluster belongs to one file or directory at most, as fsck.fat requires: files sharing
     * a chain (cross-linked) would make reading them all cost a multiple of the image. One pass over
     * the FAT per cluster, a bit per cluster.
     */
    private void claimClusters(List<FatFile> files, Set<Long> dirClusters) throws IOException {
        java.util.BitSet claimed = new java.util.BitSet(Math.toIntExact(Math.min(clusterCount + 2, Integer.MAX_VALUE)));
        for (long c : dirClusters) {
            claimed.set(Math.toIntExact(c));
        }
        for (FatFile f : files) {
            if (f.directory() || f.size() == 0) {
                continue;
            }
            long expected = (f.size() + clusterBytes - 1) / clusterBytes;
            long c = f.firstCluster();
            for (long i = 0; i < expected; i++) {
                checkCluster(c, f.path() + " cluster");
                if (claimed.get(Math.toIntExact(c))) {
                    throw new FormatException(fatOffset + 4 * c, "FAT[" + c + "]", hex(c), f.path()
                            + ": cluster " + c + " also belongs to another file or directory (cross-linked)");
                }
                claimed.set(Math.toIntExact(c));
                if (i + 1 < expected) {
                    long next = fat(c);
                    if (next >= EOC_MIN) {
                        throw new FormatException(fatOffset + 4 * c, "FAT[" + c + "]", hex(next), f.path() + ": cluster chain ends after "
                                + (i + 1) + " of " + expected + " clusters (file size " + f.size() + ")");
                    }
                    checkNext(c, next, f.path());
                    c = next;
                }
            }
        }
    }

    /** The entry at {@code path} (exact spelling first, then case-insensitive), or null. */
    public FatFile find(String path) throws IOException {
        String p = path.startsWith("/") ? path : "/" + path;
        FatFile ci = null;
        for (FatFile f : list()) {
            if (f.path().equals(p)) {
                return f;
            }
            if (ci == null && f.path().toUpperCase(Locale.ROOT).equals(p.toUpperCase(Locale.ROOT))) {
                ci = f;
            }
        }
        return ci;
    }

    /**
     * A file's bytes.
     *
     * @throws java.io.FileNotFoundException when there is no such file
     * @throws FormatException               when it is larger than {@code maxBytes} or its chain is corrupt
     */
    public byte[] readFile(String path, int maxBytes) throws IOException {
        FatFile f = file(path);
        if (f.size() > maxBytes) {
            throw new FormatException("size", f.size(), path + " is larger than the " + maxBytes + "-byte limit");
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) f.size());
        copy(f, out);
        return out.toByteArray();
    }

    /** Streams a file's bytes to {@code out}; returns the count. */
    public long copyFile(String path, OutputStream out) throws IOException {
        return copy(file(path), out);
    }

    private FatFile file(String path) throws IOException {
        FatFile f = find(path);
        if (f == null || f.directory()) {
            throw new java.io.FileNotFoundException("no file " + path + " in the FAT file system");
        }
        return f;
    }

    private long copy(FatFile f, OutputStream out) throws IOException {
        long size = f.size();
        if (size == 0) {
            return 0;
        }
        long expected = (size + clusterBytes - 1) / clusterBytes;
        long c = f.firstCluster();
        checkCluster(c, f.path() + " first cluster");
        byte[] buf = new byte[clusterBytes];
        long left = size;
        for (long i = 0; i < expected; i++) {
            readCluster(c, buf);
            int n = (int) Math.min(left, clusterBytes);
            out.write(buf, 0, n);
            left -= n;
            long next = fat(c);
            if (i + 1 < expected) {
                if (next >= EOC_MIN) {
                    throw new FormatException(fatOffset + 4 * c, "FAT[" + c + "]", hex(next), f.path() + ": cluster chain ends after "
                            + (i + 1) + " of " + expected + " clusters (file size " + size + ")");
                }
                checkNext(c, next, f.path());
                c = next;
            } else if (next < EOC_MIN) {
                throw new FormatException(fatOffset + 4 * c, "FAT[" + c + "]", hex(next), f.path()
                        + ": cluster chain continues past the file size " + size + " (" + expected + " clusters)");
            }
        }
        return size;
    }

    private void walk(long first, String dirPath, int depth, Set<Long> visited, Set<Long> dirClusters, List<FatFile> out)
            throws IOException {
        if (depth > MAX_DEPTH) {
            throw new FormatException("depth", depth, dirPath + ": directories nested deeper than " + MAX_DEPTH);
        }
        byte[] dir = readDirectory(first, dirPath.isEmpty() ? "/" : dirPath, dirClusters);
        Set<String> names = new HashSet<>();
        List<FatFile> subdirs = new ArrayList<>();
        char[] lfn = null;
        int lfnNext = 0;
        int lfnSum = -1;
        for (int off = 0; off < dir.length; off += 32) {
            int b0 = dir[off] & 0xFF;
            if (b0 == 0) {
                break;
            }
            int attr = dir[off + FatDirEntry.OFF_ATTR] & 0xFF;
            if (b0 == 0xE5) {
                lfn = null;
                continue;
            }
            if ((attr & 0x3F) == FatDirEntry.ATTR_LONG_NAME) {
                int ord = b0;
                int seq = ord & 0x1F;
                if ((ord & FatLfnEntry.LAST_LONG_ENTRY) != 0) {
                    if (seq < 1 || seq > 20) {
                        lfn = null;
                        continue;
                    }
                    lfn = new char[seq * FatLfnEntry.UNITS];
                    lfnSum = dir[off + FatLfnEntry.OFF_CHKSUM] & 0xFF;
                    lfnNext = seq;
                } else if (lfn == null || seq != lfnNext || (dir[off + FatLfnEntry.OFF_CHKSUM] & 0xFF) != lfnSum) {
                    lfn = null;
                    continue;
                }
                for (int i = 0; i < FatLfnEntry.UNITS; i++) {
                    lfn[(seq - 1) * FatLfnEntry.UNITS + i] = FatLfnEntry.unit(dir, off, i);
                }
                lfnNext = seq - 1;
                continue;
            }
            if ((attr & FatDirEntry.ATTR_VOLUME_ID) != 0) {
                lfn = null;
                continue;
            }
            FatDirEntry e = FatDirEntry.decode(dir, off);
            byte[] sn = e.name();
            String shortName = shortName(sn, e.ntRes());
            String name = shortName;
            if (lfn != null && lfnNext == 0 && FatLfnEntry.checksum(sn) == lfnSum) {
                int len = 0;
                while (len < lfn.length && lfn[len] != 0) {
                    len++;
                }
                name = new String(lfn, 0, len);
            }
            lfn = null;
            boolean isDir = (attr & FatDirEntry.ATTR_DIRECTORY) != 0;
            if (isDir && (shortName.equals(".") || shortName.equals(".."))) {
                continue;
            }
            if (dirPath.length() + 1 + name.length() > MAX_PATH) {
                throw new FormatException(dirOffset(first) + off, "name", name.length(), dirPath.substring(0, Math.min(dirPath.length(), 64))
                        + "…: a path longer than " + MAX_PATH + " characters");
            }
            String entryPath = dirPath + "/" + name;
            listingChars += entryPath.length();
            if (listingChars > MAX_LISTING_CHARS) {
                throw new FormatException("listing", listingChars, "the paths of the listing exceed " + MAX_LISTING_CHARS + " characters");
            }
            if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
                throw new FormatException(dirOffset(first) + off, "name", printable(name), dirPath + "/: invalid file name");
            }
            if (!names.add(name.toUpperCase(Locale.ROOT))) {
                throw new FormatException(dirOffset(first) + off, "name", printable(name), dirPath + "/: name appears twice");
            }
            long cluster = e.firstCluster();
            long size = isDir ? 0 : e.fileSize();
            if (!isDir && size > clusterCount * clusterBytes) {
                throw new FormatException(dirOffset(first) + off + FatDirEntry.OFF_FILE_SIZE, "DIR_FileSize", size,
                        entryPath + ": larger than the whole data area");
            }
            if ((size > 0 || isDir) && (cluster < 2 || cluster > clusterCount + 1)) {
                throw new FormatException(dirOffset(first) + off + FatDirEntry.OFF_FST_CLUS_LO, "first cluster", cluster,
                        entryPath + ": first cluster out of range 2.." + (clusterCount + 1));
            }
            if (out.size() >= MAX_ENTRIES) {
                throw new FormatException("entries", out.size(), "more than " + MAX_ENTRIES + " files and directories");
            }
            FatFile f = new FatFile(entryPath, shortName, isDir, size, size == 0 && !isDir ? 0 : cluster,
                    FatTime.toEpoch(e.wrtDate(), e.wrtTime()));
            out.add(f);
            if (isDir) {
                if (!visited.add(cluster)) {
                    throw new FormatException(dirOffset(first) + off + FatDirEntry.OFF_FST_CLUS_LO, "first cluster", cluster,
                            entryPath + ": directory loop (cluster " + cluster + " is already a directory)");
                }
                subdirs.add(f);
            }
        }
        for (FatFile d : subdirs) {
            walk(d.firstCluster(), d.path(), depth + 1, visited, dirClusters, out);
        }
    }

    private long dirOffset(long cluster) {
        return dataOffset + (cluster - 2) * clusterBytes;
    }

    /**
     * A directory's clusters, at most 2 MiB; a longer chain (or a loop) is corrupt, and so is a
     * chain that runs into a cluster of a directory read before ({@code dirClusters}, which this
     * directory's clusters join): such cross-linked directories read differently to readers that
     * stop at the end-of-directory entry (mtools, this one) and to Linux, which takes a zero name
     * for a free slot and reads on (fsck.fat: "share clusters").
     */
    private byte[] readDirectory(long first, String path, Set<Long> dirClusters) throws IOException {
        long max = Math.max(1, MAX_DIR_BYTES / clusterBytes);
        checkCluster(first, path + " first cluster");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(clusterBytes);
        byte[] buf = new byte[clusterBytes];
        List<Long> chain = new ArrayList<>();
        long c = first;
        for (long i = 0; ; i++) {
            if (i >= max) {
                throw new FormatException(fatOffset + 4 * c, "FAT[" + c + "]", hex(fat(c)), path
                        + ": directory cluster chain longer than " + MAX_DIR_BYTES + " bytes (looping?)");
            }
            if (dirClusters.contains(c)) {
                throw new FormatException(dataOffset + (c - 2) * clusterBytes, "cluster", c, path
                        + ": directory cluster " + c + " also belongs to another directory (cross-linked)");
            }
            chain.add(c);
            readCluster(c, buf);
            out.write(buf, 0, buf.length);
            long next = fat(c);
            if (next >= EOC_MIN) {
                dirClusters.addAll(chain);
                return out.toByteArray();
            }
            checkNext(c, next, path);
            c = next;
        }
    }

    private void checkNext(long c, long next, String path) throws FormatException {
        if (next == 0 || next == 1 || next == BAD || next > clusterCount + 1) {
            throw new FormatException(fatOffset + 4 * c, "FAT[" + c + "]", hex(next), path
                    + ": cluster chain points to a free, bad or out-of-range cluster");
        }
    }

    private void checkCluster(long c, String what) throws FormatException {
        if (c < 2 || c > clusterCount + 1) {
            throw new FormatException("cluster", c, what + " out of range 2.." + (clusterCount + 1));
        }
    }

    private void readCluster(long c, byte[] buf) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long pos = dataOffset + (c - 2) * clusterBytes;
        in.position(pos);
        while (bb.hasRemaining()) {
            if (in.read(bb) < 0) {
                throw new FormatException(pos, "cluster", c, "image ends inside cluster " + c);
            }
        }
    }

    /** FAT entry {@code c} (28 bits), through a 64 KiB window of the active FAT. */
    private long fat(long c) throws IOException {
        long off = c * 4;
        if (off + 4 > fatBytes) {
            throw new FormatException(fatOffset + off, "FAT entry", c, "outside the FAT");
        }
        long start = off / FAT_WINDOW * FAT_WINDOW;
        if (start != windowStart) {
            int len = (int) Math.min(FAT_WINDOW, fatBytes - start);
            ByteBuffer bb = ByteBuffer.wrap(window, 0, len);
            in.position(fatOffset + start);
            while (bb.hasRemaining()) {
                if (in.read(bb) < 0) {
                    throw new FormatException(fatOffset + start, "FAT", null, "image ends inside the FAT");
                }
            }
            windowStart = start;
        }
        int i = (int) (off - start);
        return ((window[i] & 0xFFL) | (window[i + 1] & 0xFFL) << 8 | (window[i + 2] & 0xFFL) << 16
                | (window[i + 3] & 0xFFL) << 24) & 0x0FFF_FFFFL;
    }

    private static String shortName(byte[] sn, int ntRes) {
        byte[] n = sn.clone();
        if ((n[0] & 0xFF) == 0x05) {
            n[0] = (byte) 0xE5;
        }
        String base = new String(n, 0, 8, StandardCharsets.ISO_8859_1).stripTrailing();
        String ext = new String(n, 8, 3, StandardCharsets.ISO_8859_1).stripTrailing();
        if ((ntRes & 0x08) != 0) {
            base = base.toLowerCase(Locale.ROOT);
        }
        if ((ntRes & 0x10) != 0) {
            ext = ext.toLowerCase(Locale.ROOT);
        }
        return ext.isEmpty() ? base : base + "." + ext;
    }

    private static byte[] read(SeekableByteChannel in, long pos, int len, String what) throws IOException {
        return GptReader.readAt(in, in.size(), pos, len, what);
    }

    private static String hex(long v) {
        return String.format("0x%08x", v);
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(64).forEach(cp -> b.append(cp < 0x20 || cp == 0x7F ? '?' : Character.toString(cp)));
        return b.toString();
    }
}
