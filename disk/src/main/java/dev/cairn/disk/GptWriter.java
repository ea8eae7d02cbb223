package dev.cairn.disk;

import dev.cairn.io.AtomicOutput;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;

/**
 * Writes a planned {@link DiskLayout} as one sequential stream: protective MBR, primary header and
 * entries, every partition's content (streamed from its file through four 1 MiB buffers, never
 * held whole, then zero padded), the gaps as zeros, the backup entries and the backup header — the
 * bytes libfdisk (hence systemd-repart 252) writes for the same layout (ddi-sysext.md §3.1;
 * GptOracleIT compares whole images). Every byte of the disk is written, so the result does not
 * depend on what the output held before. The SHA-256 of the disk and of each partition are
 * by-products, computed on two helper threads while the caller's thread copies.
 */
public final class GptWriter {
    static final int BUFFER = 1 << 20;
    /** Disks from this size on are flushed to disk while they are written (see AtomicOutput#flushInBackground). */
    static final long BACKGROUND_FLUSH_SIZE = 256L << 20;
    /** Buffers in flight between the reader, the writer and the digest threads. */
    static final int BUFFERS = 4;

    private GptWriter() {
    }

    /**
     * Writes the disk from position 0 of {@code out} and truncates anything beyond its end.
     *
     * @throws IllegalArgumentException when a content file is larger than its partition (checked
     *                                  before anything is written)
     * @throws IOException              when a content file changes size while it is copied
     */
    public static DiskResult write(DiskLayout layout, SeekableByteChannel out) throws IOException {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(out, "out");
        long[] contentSizes = checkContents(layout);
        out.position(0);

        byte[] entries = entryArray(layout);
        long entriesCrc = crc32(entries);
        long sectors = layout.totalSectors();
        GptHeader primary = GptHeader.create(1, sectors - 1, layout.firstUsableLba(), layout.lastUsableLba(),
                layout.diskGuid(), 2, DiskLayout.ENTRY_COUNT, DiskLayout.ENTRY_SIZE, entriesCrc);
        GptHeader backup = GptHeader.create(sectors - 1, 1, layout.firstUsableLba(), layout.lastUsableLba(),
                layout.diskGuid(), layout.backupEntriesLba(), DiskLayout.ENTRY_COUNT, DiskLayout.ENTRY_SIZE, entriesCrc);

        try (DigestingSink sink = new DigestingSink(out)) {
            sink.write(ByteBuffer.wrap(ProtectiveMbr.forDisk(sectors).encode()));
            sink.write(ByteBuffer.wrap(primary.encodeSector(DiskLayout.SECTOR_SIZE)));
            sink.write(ByteBuffer.wrap(entries));

            List<Future<byte[]>> digests = new ArrayList<>();
            long[] copied = new long[layout.partitions().size()];
            for (int i = 0; i < layout.partitions().size(); i++) {
                PlacedPartition p = layout.partitions().get(i);
                sink.zeros(p.offset() - sink.written);
                sink.beginPartition();
                Path content = p.spec().content();
                if (content != null) {
                    copied[i] = copy(content, p.spec().contentOffset(), contentSizes[i], p, sink);
                }
                sink.zeros(p.size() - copied[i]);
                digests.add(sink.endPartition());
            }
            sink.zeros(layout.backupEntriesLba() * DiskLayout.SECTOR_SIZE - sink.written);
            sink.write(ByteBuffer.wrap(entries));
            sink.write(ByteBuffer.wrap(backup.encodeSector(DiskLayout.SECTOR_SIZE)));
            if (sink.written != layout.totalSize()) {
                throw new IllegalStateException("wrote " + sink.written + " bytes, planned " + layout.totalSize());
            }
            if (out.size() > layout.totalSize()) {
                out.truncate(layout.totalSize());
            }
            byte[] disk = sink.finish();
            List<DiskResult.Partition> results = new ArrayList<>();
            for (int i = 0; i < copied.length; i++) {
                PlacedPartition p = layout.partitions().get(i);
                results.add(new DiskResult.Partition(p.number(), p.offset(), p.size(), DigestingSink.get(digests.get(i)), copied[i]));
            }
            return new DiskResult(layout.totalSize(), disk, results);
        }
    }

    /**
     * Writes the disk to {@code out} without computing digests: the headers and entry arrays as
     * {@link #write(DiskLayout, SeekableByteChannel)} writes them, each partition's content copied
     * in the kernel ({@link FileChannel#transferTo}), the big ones on two threads, and the zeros
     * between left as holes of the new, empty file. The bytes are the same; the result carries no
     * SHA-256s. For assembling disks from ready-made partitions ({@code cairn disk assemble}).
     *
     * @param out an empty file opened for writing (and, for the second thread, reopened by {@code path})
     */
    public static DiskResult writeUndigested(DiskLayout layout, Path path, FileChannel out) throws IOException {
        Objects.requireNonNull(layout, "layout");
        if (out.size() != 0) {
            throw new IllegalArgumentException("writeUndigested needs an empty file: holes stand for the zeros");
        }
        long[] contentSizes = checkContents(layout);
        byte[] entries = entryArray(layout);
        long entriesCrc = crc32(entries);
        long sectors = layout.totalSectors();
        GptHeader primary = GptHeader.create(1, sectors - 1, layout.firstUsableLba(), layout.lastUsableLba(),
                layout.diskGuid(), 2, DiskLayout.ENTRY_COUNT, DiskLayout.ENTRY_SIZE, entriesCrc);
        GptHeader backup = GptHeader.create(sectors - 1, 1, layout.firstUsableLba(), layout.lastUsableLba(),
                layout.diskGuid(), layout.backupEntriesLba(), DiskLayout.ENTRY_COUNT, DiskLayout.ENTRY_SIZE, entriesCrc);
        writeFully(out, ProtectiveMbr.forDisk(sectors).encode(), 0);
        writeFully(out, primary.encodeSector(DiskLayout.SECTOR_SIZE), DiskLayout.SECTOR_SIZE);
        writeFully(out, entries, 2L * DiskLayout.SECTOR_SIZE);
        // the largest content on a second thread, everything else here: two cores copy at once
        int largest = -1;
        for (int i = 0; i < contentSizes.length; i++) {
            if (layout.partitions().get(i).spec().content() != null && (largest < 0 || contentSizes[i] > contentSizes[largest])) {
                largest = i;
            }
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cairn-disk-copy");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> pending = new ArrayList<>();
            if (largest >= 0 && contentSizes[largest] >= (64L << 20)) {
                PlacedPartition p = layout.partitions().get(largest);
                long half = contentSizes[largest] / 2 / BUFFER * BUFFER;
                long size = contentSizes[largest];
                pending.add(pool.submit(() -> {
                    try (FileChannel second = FileChannel.open(path, StandardOpenOption.WRITE)) {
                        transfer(p, half, size - half, second);
                    }
                    return null;
                }));
                transfer(p, 0, half, out);
            } else {
                largest = -1;
            }
            for (int i = 0; i < contentSizes.length; i++) {
                PlacedPartition p = layout.partitions().get(i);
                if (i != largest && p.spec().content() != null) {
                    transfer(p, 0, contentSizes[i], out);
                }
            }
            writeFully(out, entries, layout.backupEntriesLba() * DiskLayout.SECTOR_SIZE);
            writeFully(out, backup.encodeSector(DiskLayout.SECTOR_SIZE), (sectors - 1) * DiskLayout.SECTOR_SIZE);
            for (Future<?> f : pending) {
                DigestingSink.get(f);
            }
        } finally {
            pool.shutdownNow();
        }
        if (out.size() != layout.totalSize()) {
            throw new IOException("wrote " + out.size() + " bytes, planned " + layout.totalSize());
        }
        List<DiskResult.Partition> results = new ArrayList<>();
        for (int i = 0; i < contentSizes.length; i++) {
            PlacedPartition p = layout.partitions().get(i);
            results.add(new DiskResult.Partition(p.number(), p.offset(), p.size(), null, contentSizes[i]));
        }
        return new DiskResult(layout.totalSize(), null, results);
    }

    /** {@link #writeUndigested(DiskLayout, Path, FileChannel)} to {@code target} atomically, as {@link #write(DiskLayout, Path)}. */
    public static DiskResult writeUndigested(DiskLayout layout, Path target) throws IOException {
        try (AtomicOutput ao = AtomicOutput.open(target)) {
            DiskResult r = writeUndigested(layout, ao.tempPath(), ao.channel());
            ao.commit();
            return r;
        }
    }

    /** Copies bytes [from, from+length) of the partition's content to the same place in the partition. */
    private static void transfer(PlacedPartition p, long from, long length, FileChannel out) throws IOException {
        try (FileChannel in = FileChannel.open(p.spec().content(), StandardOpenOption.READ)) {
            long src = p.spec().contentOffset() + from;
            long done = 0;
            out.position(p.offset() + from);
            while (done < length) {
                long n = in.transferTo(src + done, length - done, out);
                if (n <= 0) {
                    throw new IOException("content of partition " + p.number() + " (" + p.spec().content() + ") shrank while it was copied");
                }
                done += n;
            }
        }
    }

    private static void writeFully(FileChannel out, byte[] b, long at) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            out.write(buf, at + buf.position());
        }
    }

    /**
     * Writes the disk to {@code target} atomically: a temporary file beside it, size checked,
     * then renamed into place; nothing is left under {@code target}'s name on failure.
     */
    public static DiskResult write(DiskLayout layout, Path target) throws IOException {
        try (AtomicOutput ao = AtomicOutput.open(target)) {
            if (layout.totalSize() >= BACKGROUND_FLUSH_SIZE) {
                ao.flushInBackground();
            }
            DiskResult r = write(layout, ao.channel());
            if (ao.channel().size() != r.totalSize()) {
                throw new IOException("disk image " + target + " has " + ao.channel().size() + " bytes, expected " + r.totalSize());
            }
            ao.commit();
            return r;
        }
    }

    /** The 128 entries of the table, unused ones zero. */
    static byte[] entryArray(DiskLayout layout) {
        byte[] entries = new byte[DiskLayout.ENTRY_COUNT * DiskLayout.ENTRY_SIZE];
        for (PlacedPartition p : layout.partitions()) {
            byte[] e = GptEntry.of(p).encode();
            System.arraycopy(e, 0, entries, (p.number() - 1) * DiskLayout.ENTRY_SIZE, e.length);
        }
        return entries;
    }

    static long crc32(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    private static long[] checkContents(DiskLayout layout) throws IOException {
        long[] sizes = new long[layout.partitions().size()];
        for (int i = 0; i < sizes.length; i++) {
            PlacedPartition p = layout.partitions().get(i);
            Path c = p.spec().content();
            if (c == null) {
                continue;
            }
            if (!Files.isRegularFile(c)) {
                throw new IllegalArgumentException("content of partition " + p.number() + " is not a regular file: " + c);
            }
            long fileSize = Files.size(c);
            long off = p.spec().contentOffset();
            long len = p.spec().contentLength();
            if (off > fileSize || (len >= 0 && len > fileSize - off)) {
                throw new IllegalArgumentException("content region " + off + "+" + len + " of partition " + p.number() + " lies outside "
                        + c + " (" + fileSize + " bytes)");
            }
            sizes[i] = len >= 0 ? len : fileSize - off;
            if (sizes[i] > p.size()) {
                throw new IllegalArgumentException("content of partition " + p.number() + " (" + c + ") has " + sizes[i]
                        + " bytes, more than the partition's " + p.size());
            }
        }
        return sizes;
    }

    private static long copy(Path content, long offset, long expected, PlacedPartition p, DigestingSink sink) throws IOException {
        long copied = 0;
        try (FileChannel in = FileChannel.open(content, StandardOpenOption.READ)) {
            boolean region = p.spec().contentLength() >= 0;
            in.position(offset);
            while (true) {
                ByteBuffer buf = sink.nextBuffer();
                if (region && buf.remaining() > expected - copied) {
                    buf.limit(buf.position() + (int) (expected - copied));
                }
                int n = buf.hasRemaining() ? in.read(buf) : -1;
                if (n < 0) {
                    break;
                }
                if (copied + n > expected) {
                    throw new IOException("content of partition " + p.number() + " (" + content
                            + ") grew while it was being written: more than " + expected + " bytes");
                }
                buf.flip();
                sink.write(buf);
                copied += n;
            }
        }
        if (copied != expected) {
            throw new IOException("content of partition " + p.number() + " (" + content + ") shrank while it was being written: "
                    + copied + " of " + expected + " bytes");
        }
        return copied;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Sequential output whose two SHA-256 digests (the whole disk, the current partition) are
     * computed on two threads of their own while the calling thread reads and writes: a disk of
     * 1 GiB costs about one copy instead of one copy plus two hash passes. Buffers passed to
     * {@link #write} must stay unchanged until their digests are done: content goes through the
     * {@value GptWriter#BUFFERS} buffers of {@link #nextBuffer}, which waits for that; everything
     * else is written from fresh arrays or the shared zeros.
     */
    static final class DigestingSink implements AutoCloseable {
        private static final ByteBuffer ZEROS = ByteBuffer.allocate(BUFFER).asReadOnlyBuffer();
        private final SeekableByteChannel out;
        private final ExecutorService diskLane = lane("cairn-disk-sha256");
        private final ExecutorService partLane = lane("cairn-partition-sha256");
        private final MessageDigest disk = sha256();
        private final ByteBuffer[] pool = new ByteBuffer[BUFFERS];
        private final List<List<Future<?>>> busy = new ArrayList<>(java.util.Collections.nCopies(BUFFERS, null));
        private int next;
        /** The pool buffer nextBuffer handed out last, until it is written. */
        private int lastBuffer = -1;
        /** Touched only by tasks on partLane. */
        private MessageDigest part;
        private boolean inPartition;
        long written;

        DigestingSink(SeekableByteChannel out) {
            this.out = out;
        }

        private static ExecutorService lane(String name) {
            return Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
        }

        /** A cleared content buffer whose earlier digests are done. */
        ByteBuffer nextBuffer() throws IOException {
            int k = next;
            next = (next + 1) % BUFFERS;
            if (busy.get(k) != null) {
                for (Future<?> f : busy.get(k)) {
                    get(f);
                }
                busy.set(k, null);
            }
            if (pool[k] == null) {
                pool[k] = ByteBuffer.allocate(BUFFER);
            }
            lastBuffer = k;
            return pool[k].clear();
        }

        void beginPartition() {
            inPartition = true;
            partLane.execute(() -> part = sha256());
        }

        Future<byte[]> endPartition() {
            inPartition = false;
            return partLane.submit(() -> part.digest());
        }

        void write(ByteBuffer b) throws IOException {
            int len = b.remaining();
            ByteBuffer forDisk = b.duplicate();
            List<Future<?>> tasks = new ArrayList<>(2);
            tasks.add(diskLane.submit(() -> disk.update(forDisk)));
            if (inPartition) {
                ByteBuffer forPart = b.duplicate();
                tasks.add(partLane.submit(() -> part.update(forPart)));
            }
            if (lastBuffer >= 0 && b == pool[lastBuffer]) {
                busy.set(lastBuffer, tasks);
                lastBuffer = -1;
            }
            while (b.hasRemaining()) {
                out.write(b);
            }
            written += len;
        }

        void zeros(long n) throws IOException {
            if (n < 0) {
                throw new IllegalStateException("negative gap: " + n);
            }
            while (n > 0) {
                int k = (int) Math.min(n, BUFFER);
                write(ZEROS.duplicate().limit(k));
                n -= k;
            }
        }

        /** The disk's digest, once every update is done. */
        byte[] finish() throws IOException {
            return get(diskLane.submit(() -> disk.digest()));
        }

        static <T> T get(Future<T> f) throws IOException {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while hashing the disk");
            } catch (ExecutionException e) {
                throw new IllegalStateException("hashing the disk failed", e.getCause());
            }
        }

        @Override
        public void close() {
            diskLane.shutdownNow();
            partLane.shutdownNow();
        }
    }
}
