package dev.cairn.disk;

/**
 * The layout mkfs.fat 4.2 gives {@code mkfs.fat -F 32} on a regular file of {@code sizeBytes}
 * bytes with 512-byte sectors (dosfstools {@code src/mkfs.fat.c} {@code establish_params} and
 * {@code setup_tables}; ddi-sysext.md §5) — a pure function:
 *
 * <ul>
 *   <li>geometry: up to 524288 sectors (256 MiB) heads 2/4/8/16 at ≤ 32768/65536/262144/more
 *       sectors and 32 sectors per track; above that LBA-assist translation, 63 sectors per track
 *       and 16/32/64/128/255 heads;</li>
 *   <li>the file system covers the size rounded down to whole tracks (so up to 62 sectors at the
 *       end can stay unused);</li>
 *   <li>sectors per cluster: 1 up to 260 MiB, 8 up to 8 GiB, 16 up to 16 GiB, 32 up to 32 GiB,
 *       64 above (doubled while the FAT could not address the clusters);</li>
 *   <li>32 reserved sectors (aligned up to the cluster size), FSInfo in sector 1, backup boot
 *       sector in 6, two FATs each aligned to the cluster size, root directory at cluster 2.</li>
 * </ul>
 *
 * @param sizeBytes       the size given (the partition)
 * @param totalSectors    BPB_TotSec32: sectors the file system covers
 * @param fatSectors      BPB_FATSz32: sectors per FAT
 * @param clusterCount    data clusters (numbered 2 .. clusterCount+1)
 */
public record FatGeometry(long sizeBytes, long totalSectors, int sectorsPerCluster, int reservedSectors, long fatSectors,
                          long clusterCount, int sectorsPerTrack, int heads) {
    public static final int SECTOR_SIZE = 512;
    public static final int NUM_FATS = 2;
    public static final int MEDIA = 0xF8;
    public static final long ROOT_CLUSTER = 2;
    public static final int FS_INFO_SECTOR = 1;
    public static final int BACKUP_BOOT_SECTOR = 6;
    /** FAT32 needs at least this many clusters (below, it is FAT16 by definition; OVMF refuses it). */
    public static final long MIN_CLUSTERS = 65525;
    static final long MAX_CLUSTERS = 268_435_446;
    /** Smallest size (bytes) that gives {@link #MIN_CLUSTERS}: 34 095 104 bytes (32.5 MiB, 65534 clusters). */
    public static final long MIN_SIZE = minimumSize();

    /** The mkfs.fat layout for {@code sizeBytes}, refusing sizes with fewer than 65525 clusters or above 2 TiB. */
    public static FatGeometry of(long sizeBytes) {
        FatGeometry g = compute(sizeBytes);
        if (g == null || g.clusterCount < MIN_CLUSTERS) {
            throw new IllegalArgumentException("a FAT32 file system needs at least " + MIN_CLUSTERS
                    + " clusters: the minimum size is " + MIN_SIZE + " bytes (" + String.format("%.1f", MIN_SIZE / 1048576.0)
                    + " MiB; use 33 MiB or more), got " + sizeBytes + " bytes");
        }
        return g;
    }

    /** mkfs.fat's computation, or null where it would fail; no minimum cluster count. */
    static FatGeometry compute(long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("FAT size must be a positive multiple of 512: " + sizeBytes);
        }
        long deviceSectors = sizeBytes / SECTOR_SIZE;
        if (deviceSectors > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("FAT32 with 512-byte sectors ends at 2 TiB: " + sizeBytes);
        }
        int heads;
        int spt;
        if (deviceSectors <= 524288) {
            heads = deviceSectors <= 32768 ? 2 : deviceSectors <= 65536 ? 4 : deviceSectors <= 262144 ? 8 : 16;
            spt = deviceSectors <= 4096 ? 16 : 32;
        } else {
            heads = deviceSectors <= 16L * 63 * 1024 ? 16 : deviceSectors <= 32L * 63 * 1024 ? 32
                    : deviceSectors <= 64L * 63 * 1024 ? 64 : deviceSectors <= 128L * 63 * 1024 ? 128 : 255;
            spt = 63;
        }
        int clusterSize = deviceSectors > 32L * 1024 * 1024 * 2 ? 64 : deviceSectors > 16L * 1024 * 1024 * 2 ? 32
                : deviceSectors > 8L * 1024 * 1024 * 2 ? 16 : deviceSectors > 260L * 1024 * 2 ? 8 : 1;
        long numSectors = deviceSectors / spt * spt;
        boolean align = numSectors > 8192;
        final int reserved = 32;
        long clusters = 0;
        long fatLength = 0;
        while (clusterSize > 0 && clusterSize <= 128) {
            long fatdata = numSectors - alignObject(reserved, clusterSize, align);
            long c = (fatdata * SECTOR_SIZE + NUM_FATS * 8L) / ((long) clusterSize * SECTOR_SIZE + NUM_FATS * 4L);
            fatLength = alignObject(ceilDiv((c + 2) * 4, SECTOR_SIZE), clusterSize, align);
            c = (fatdata - NUM_FATS * fatLength) / clusterSize;
            long maxClusters = Math.min(fatLength * SECTOR_SIZE / 4, MAX_CLUSTERS);
            if (c > maxClusters || c <= 0 || fatdata <= 0) {
                c = 0;
            }
            if (c != 0) {
                clusters = c;
                break;
            }
            clusterSize <<= 1;
        }
        if (clusters == 0) {
            return null;
        }
        return new FatGeometry(sizeBytes, numSectors, clusterSize, (int) alignObject(reserved, clusterSize, align), fatLength,
                clusters, spt, heads);
    }

    private static long alignObject(long sectors, long clusterSize, boolean align) {
        return align ? (sectors + clusterSize - 1) & ~(clusterSize - 1) : sectors;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long minimumSize() {
        for (long sectors = 65536; ; sectors++) {
            FatGeometry g = compute(sectors * SECTOR_SIZE);
            if (g != null && g.clusterCount >= MIN_CLUSTERS) {
                return sectors * SECTOR_SIZE;
            }
        }
    }

    /** First sector of the data region (cluster 2). */
    public long dataStartSector() {
        return reservedSectors + NUM_FATS * fatSectors;
    }

    public int clusterBytes() {
        return sectorsPerCluster * SECTOR_SIZE;
    }

    /** Byte offset of a data cluster (2 .. clusterCount+1) from the start of the file system. */
    public long clusterOffset(long cluster) {
        return (dataStartSector() + (cluster - 2) * sectorsPerCluster) * SECTOR_SIZE;
    }
}
