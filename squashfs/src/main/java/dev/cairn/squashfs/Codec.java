package dev.cairn.squashfs;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.tukaani.xz.ArrayCache;
import org.tukaani.xz.BasicArrayCache;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

/**
 * One SquashFS compressor configuration, with the kernel's rules for each (see the SquashFS fact
 * sheet §4): zlib streams with a header, xz with CRC32 and a dictionary no larger than the block,
 * one-shot zstd frames, raw LZ4 blocks with the mandatory options record.
 */
final class Codec {
    private final Compression compression;
    private final int level;
    private final int blockSize;
    private final boolean lz4hc;

    Codec(Compression compression, int level, int blockSize, boolean lz4hc) {
        this.compression = compression;
        this.level = level;
        this.blockSize = blockSize;
        this.lz4hc = lz4hc;
        if (compression != Compression.GZIP && compression != Compression.ZSTD && compression != Compression.XZ
                && compression != Compression.LZ4) {
            throw new IllegalArgumentException("no writer for " + compression);
        }
        compression.checkLevel(level);
    }

    Compression compression() {
        return compression;
    }

    /**
     * The compressor-options record stored after the superblock, or null when mksquashfs would
     * store none (default settings). LZ4 always has one: the kernel requires it.
     */
    byte[] options() {
        ByteBuffer b;
        switch (compression) {
            case GZIP -> {
                if (level == 9) {
                    return null;
                }
                b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(level).putShort((short) 15).putShort((short) 0); // level, window, strategies
            }
            case ZSTD -> {
                if (level == 15) {
                    return null;
                }
                b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(level);
            }
            case LZ4 -> b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(lz4hc ? 1 : 0);
            default -> {
                return null; // xz: dictionary = block size, no filters
            }
        }
        return b.array();
    }

    /** A compressor for one thread. */
    Compressor newCompressor() {
        return switch (compression) {
            case GZIP -> new GzipCompressor(level);
            case ZSTD -> new ZstdCompressor(level);
            case XZ -> new XzCompressor(level, xzDictionary(blockSize));
            case LZ4 -> new Lz4Compressor(lz4hc);
            default -> throw new IllegalStateException();
        };
    }

    static int xzDictionary(int blockSize) {
        return Math.max(blockSize, 8192);
    }

    /** Compresses whole blocks; one instance per thread. */
    interface Compressor {
        /**
         * Compresses {@code src[off, off+len)}; returns the compressed bytes, or null when they
         * would not be smaller than the input (the block is then stored raw).
         */
        byte[] compress(byte[] src, int off, int len) throws IOException;
    }

    /** Decompresses one block or metadata chunk into a buffer whose size bounds the output. */
    interface Decompressor {
        /** Returns the number of bytes produced; a FormatException when the input is bad or too big. */
        int decompress(byte[] src, int off, int len, byte[] dst) throws FormatException;
    }

    static Decompressor decompressor(Compression c, int blockSize) throws UnsupportedFeatureException {
        return switch (c) {
            case GZIP -> Codec::inflate;
            case ZSTD -> new ZstdDecompressor();
            case XZ -> (src, off, len, dst) -> unxz(src, off, len, dst, blockSize);
            case LZ4 -> new Lz4Decompressor();
            default -> throw new UnsupportedFeatureException("compression", c, "unsupported SquashFS compressor (cairn reads gzip, xz, lz4 and zstd)");
        };
    }

    private static final class GzipCompressor implements Compressor {
        private final Deflater deflater;
        private byte[] out = new byte[0];

        GzipCompressor(int level) {
            deflater = new Deflater(level, false);
        }

        @Override
        public byte[] compress(byte[] src, int off, int len) {
            if (out.length < len) {
                out = new byte[len];
            }
            deflater.reset();
            deflater.setInput(src, off, len);
            deflater.finish();
            int n = 0;
            while (!deflater.finished() && n < len) {
                n += deflater.deflate(out, n, len - n);
            }
            if (!deflater.finished() || n >= len) {
                return null;
            }
            return java.util.Arrays.copyOf(out, n);
        }
    }

    private static int inflate(byte[] src, int off, int len, byte[] dst) throws FormatException {
        Inflater inf = new Inflater(false);
        try {
            inf.setInput(src, off, len);
            int n = 0;
            while (!inf.finished()) {
                if (n == dst.length) {
                    throw new FormatException("gzip", null, "compressed block expands beyond " + dst.length + " bytes");
                }
                int k = inf.inflate(dst, n, dst.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new FormatException("gzip", null, "truncated compressed block");
                }
                n += k;
            }
            return n;
        } catch (DataFormatException e) {
            throw new FormatException("gzip", null, "corrupt compressed block: " + e.getMessage());
        } finally {
            inf.end();
        }
    }

    private static final class ZstdCompressor implements Compressor {
        private final ZstdCompressCtx ctx = new ZstdCompressCtx();
        private byte[] out = new byte[0];

        ZstdCompressor(int level) {
            ctx.setLevel(level);
            ctx.setChecksum(false);
            ctx.setContentSize(true);
        }

        @Override
        public byte[] compress(byte[] src, int off, int len) {
            int bound = (int) com.github.luben.zstd.Zstd.compressBound(len);
            if (out.length < bound) {
                out = new byte[bound];
            }
            int n = ctx.compressByteArray(out, 0, out.length, src, off, len);
            return n >= len ? null : java.util.Arrays.copyOf(out, n);
        }
    }

    private static final class ZstdDecompressor implements Decompressor {
        @Override
        public int decompress(byte[] src, int off, int len, byte[] dst) throws FormatException {
            try (ZstdDecompressCtx ctx = new ZstdDecompressCtx()) {
                return ctx.decompressByteArray(dst, 0, dst.length, src, off, len);
            } catch (ZstdException e) {
                throw new FormatException("zstd", null, "corrupt or oversized compressed block: " + e.getMessage());
            } catch (RuntimeException e) {
                throw new FormatException("zstd", null, "corrupt compressed block: " + e.getMessage());
            }
        }
    }

    private static final class XzCompressor implements Compressor {
        private final LZMA2Options options;
        private final ArrayCache cache = new BasicArrayCache();
        private final Sink sink = new Sink();
        private final IncompressibleProbe probe = new IncompressibleProbe();

        XzCompressor(int level, int dict) {
            try {
                options = new LZMA2Options(level);
                options.setDictSize(dict);
            } catch (org.tukaani.xz.UnsupportedOptionsException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }

        @Override
        public byte[] compress(byte[] src, int off, int len) throws IOException {
            if (probe.looksIncompressible(src, off, len)) {
                return null; // stored raw, as it would be after an LZMA pass that cannot shrink it
            }
            sink.reset();
            try (XZOutputStream xz = new XZOutputStream(sink, options, XZ.CHECK_CRC32, cache)) {
                xz.write(src, off, len);
            }
            return sink.size() >= len ? null : sink.toByteArray();
        }
    }

    /** A reusable in-memory sink. */
    private static final class Sink extends java.io.ByteArrayOutputStream {
        Sink() {
            super(1 << 16);
        }
    }

    private static int unxz(byte[] src, int off, int len, byte[] dst, int blockSize) throws FormatException {
        int limitKiB = (xzDictionary(blockSize) >> 10) * 2 + 1024;
        try (InputStream in = new XZInputStream(new ByteArrayInputStream(src, off, len), limitKiB)) {
            int n = in.readNBytes(dst, 0, dst.length);
            if (n == dst.length && in.read() >= 0) {
                throw new FormatException("xz", null, "compressed block expands beyond " + dst.length + " bytes");
            }
            return n;
        } catch (FormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new FormatException("xz", null, "corrupt compressed block: " + e.getMessage());
        }
    }

    private static final class Lz4Compressor implements Compressor {
        private final LZ4Compressor lz4;
        private byte[] out = new byte[0];

        Lz4Compressor(boolean hc) {
            LZ4Factory f = LZ4Factory.fastestInstance();
            lz4 = hc ? f.highCompressor() : f.fastCompressor();
        }

        @Override
        public byte[] compress(byte[] src, int off, int len) {
            int bound = lz4.maxCompressedLength(len);
            if (out.length < bound) {
                out = new byte[bound];
            }
            int n = lz4.compress(src, off, len, out, 0, bound);
            return n >= len ? null : java.util.Arrays.copyOf(out, n);
        }
    }

    private static final class Lz4Decompressor implements Decompressor {
        private final LZ4SafeDecompressor lz4 = LZ4Factory.fastestInstance().safeDecompressor();

        @Override
        public int decompress(byte[] src, int off, int len, byte[] dst) throws FormatException {
            try {
                return lz4.decompress(src, off, len, dst, 0, dst.length);
            } catch (LZ4Exception e) {
                throw new FormatException("lz4", null, "corrupt or oversized compressed block");
            }
        }
    }
}
