package dev.cairn.uki;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The content of one PE section, as a list of pieces streamed in order: bytes in memory, whole
 * files (read only when written or hashed, size fixed when the section is created), and zero
 * padding. Large inputs (a kernel, a 60 MB initrd) are never held in memory.
 */
public record SectionData(List<Piece> pieces) {
    private static final int CHUNK = 1 << 20;

    public SectionData {
        pieces = List.copyOf(pieces);
    }

    /** One piece of a section's content. */
    public sealed interface Piece permits Bytes, FilePiece, FileSlice, Zeros {
        long size();
    }

    /** Bytes held in memory. */
    public record Bytes(byte[] data) implements Piece {
        public Bytes {
            data = data.clone();
        }

        @Override
        public long size() {
            return data.length;
        }
    }

    /** A whole file of {@code size} bytes (checked again when read). */
    public record FilePiece(Path path, long size) implements Piece {
    }

    /** {@code size} bytes of a file from {@code offset} (a section of an existing image). */
    public record FileSlice(Path path, long offset, long size) implements Piece {
    }

    /** {@code size} zero bytes. */
    public record Zeros(long size) implements Piece {
    }

    /** Receives a section's bytes in order. */
    @FunctionalInterface
    public interface Sink {
        void accept(byte[] b, int off, int len) throws IOException;
    }

    public static SectionData of(byte[] data) {
        return new SectionData(List.of(new Bytes(data)));
    }

    public static SectionData file(Path path) throws IOException {
        return new SectionData(List.of(new FilePiece(path, Files.size(path))));
    }

    /** Several initrds concatenated, each zero-padded to a multiple of 4 bytes (ukify's join_initrds). */
    public static SectionData initrds(List<Path> files) throws IOException {
        List<Piece> p = new ArrayList<>();
        for (Path f : files) {
            long size = Files.size(f);
            p.add(new FilePiece(f, size));
            long pad = (4 - size % 4) % 4;
            if (pad > 0) {
                p.add(new Zeros(pad));
            }
        }
        return new SectionData(p);
    }

    public long size() {
        long s = 0;
        for (Piece p : pieces) {
            s = Math.addExact(s, p.size());
        }
        return s;
    }

    /** The whole content in memory; for small sections only (text, keys). */
    public byte[] toBytes(int maxSize) throws IOException {
        long size = size();
        if (size > maxSize) {
            throw new FormatException("section", size, "too large to hold in memory (more than " + maxSize + " bytes)");
        }
        byte[] out = new byte[Math.toIntExact(size)];
        int[] pos = {0};
        writeTo((b, off, len) -> {
            System.arraycopy(b, off, out, pos[0], len);
            pos[0] += len;
        });
        return out;
    }

    /** Streams the content to {@code sink}; fails if a file's size changed since the section was made. */
    public void writeTo(Sink sink) throws IOException {
        byte[] buf = null;
        for (Piece p : pieces) {
            if (p instanceof Bytes b) {
                sink.accept(b.data, 0, b.data.length);
            } else if (p instanceof Zeros z) {
                byte[] zeros = new byte[Math.toIntExact(Math.min(CHUNK, Math.max(1, z.size())))];
                for (long left = z.size(); left > 0; left -= zeros.length) {
                    sink.accept(zeros, 0, Math.toIntExact(Math.min(zeros.length, left)));
                }
            } else if (p instanceof FilePiece f) {
                buf = buffer(buf, f.size());
                copyFile(f, buf, sink);
            } else if (p instanceof FileSlice f) {
                buf = buffer(buf, f.size());
                copySlice(f, buf, sink);
            }
        }
    }

    /**
     * A read buffer for a piece of {@code size} bytes: {@code buf} when it is large enough, else one
     * of the piece's size up to {@link #CHUNK} (most sections are small: a 1 MiB array for each was
     * 13 MiB allocated and zeroed by {@code uki inspect} of a 200 KB image).
     */
    private static byte[] buffer(byte[] buf, long size) {
        int want = (int) Math.min(CHUNK, Math.max(1, size));
        return buf != null && buf.length >= want ? buf : new byte[want];
    }

    private static void copySlice(FileSlice f, byte[] buf, Sink sink) throws IOException {
        try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.wrap(buf);
            ch.position(f.offset());
            long left = f.size();
            while (left > 0) {
                bb.clear();
                bb.limit(Math.toIntExact(Math.min(buf.length, left)));
                int n = ch.read(bb);
                if (n < 0) {
                    throw new IOException(f.path() + " ends before offset " + (f.offset() + f.size()));
                }
                sink.accept(buf, 0, n);
                left -= n;
            }
        }
    }

    private static void copyFile(FilePiece f, byte[] buf, Sink sink) throws IOException {
        copySlice(new FileSlice(f.path(), 0, f.size()), buf, sink);
        long now = Files.size(f.path());
        if (now != f.size()) {
            throw new IOException(f.path() + " changed size while cairn was reading it (" + f.size() + " → " + now + " bytes)");
        }
    }

    @Override
    public String toString() {
        return "SectionData" + Arrays.toString(pieces.stream().map(p -> p.getClass().getSimpleName() + ":" + p.size()).toArray());
    }
}
