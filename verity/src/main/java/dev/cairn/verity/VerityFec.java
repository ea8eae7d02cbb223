package dev.cairn.verity;

import dev.cairn.io.Align;
import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * dm-verity forward error correction as cryptsetup writes it ({@code lib/verity/verity_fec.c}):
 * the message (data area, then the hash area) is cut into blocks; with {@code rounds =
 * ceil(blocks / (255 − roots))}, codeword {@code c = n·bs + b} holds byte {@code b} of message blocks
 * {@code n + i·rounds}, and its {@code roots} parity bytes are stored at {@code c·roots}. There is no
 * FEC header. Rounds are independent, so they are spread over threads; each thread holds one
 * round's parity ({@code bs × roots} bytes), whatever the message size.
 */
final class VerityFec {
    /** A piece of the message: {@code length} bytes of {@code channel} from {@code offset}. */
    record Segment(FileChannel channel, long offset, long length) {
    }

    private final List<Segment> message;
    private final int bs;
    private final ReedSolomon rs;
    final long messageBytes;
    final long blocks;
    final long rounds;

    VerityFec(List<Segment> message, int blockSize, int roots) {
        this.message = List.copyOf(message);
        this.bs = blockSize;
        this.rs = new ReedSolomon(roots);
        long size = 0;
        for (Segment s : message) {
            size += s.length();
        }
        this.messageBytes = size;
        this.blocks = Align.ceilDiv(size, blockSize);
        this.rounds = Align.ceilDiv(blocks, rs.k);
    }

    /** Parity blocks ("FEC blocks" in veritysetup's report). */
    long rsBlocks() {
        return rounds * rs.roots;
    }

    long paritySize() {
        return rounds * rs.roots * bs;
    }

    /** Reads message block {@code block} into {@code buf} (zeros past the end of the message). */
    void readBlock(long block, ByteBuffer buf) throws IOException {
        buf.clear();
        long off = block * bs;
        for (Segment s : message) {
            if (!buf.hasRemaining()) {
                break;
            }
            if (off >= s.length()) {
                off -= s.length();
                continue;
            }
            int n = (int) Math.min(buf.remaining(), s.length() - off);
            ByteBuffer slice = buf.slice().limit(n);
            VeritySuperblock.readFully(s.channel(), slice, s.offset() + off);
            buf.position(buf.position() + n);
            off = 0;
        }
        while (buf.hasRemaining()) {
            buf.put((byte) 0);
        }
        buf.flip();
    }

    /** Writes the parity of every round to {@code out} at {@code outOffset}. */
    void encode(FileChannel out, long outOffset, int threads) throws IOException {
        parallel(threads, () -> {
            byte[] block = new byte[bs];
            ByteBuffer buf = ByteBuffer.wrap(block);
            byte[][] acc = new byte[rs.roots][bs];
            byte[] parity = new byte[bs * rs.roots];
            return n -> {
                for (byte[] a : acc) {
                    java.util.Arrays.fill(a, (byte) 0);
                }
                for (int i = 0; i < rs.k; i++) {
                    long blk = n + (long) i * rounds;
                    if (blk >= blocks) {
                        break; // zeros contribute nothing
                    }
                    readBlock(blk, buf);
                    byte[][] t = rs.parityTable[i];
                    for (int j = 0; j < rs.roots; j++) {
                        byte[] tj = t[j];
                        byte[] aj = acc[j];
                        for (int b = 0; b < bs; b++) {
                            aj[b] ^= tj[block[b] & 0xff];
                        }
                    }
                }
                for (int b = 0; b < bs; b++) {
                    for (int j = 0; j < rs.roots; j++) {
                        parity[b * rs.roots + j] = acc[j][b];
                    }
                }
                VerityFormatter.writeFully(out, ByteBuffer.wrap(parity), outOffset + n * (long) bs * rs.roots);
            };
        });
    }

    /** Outcome of checking every codeword against the parity. */
    record DecodeResult(long correctedSymbols, long uncorrectableCodewords, long blocksChanged) {
    }

    /**
     * Decodes every codeword (errors only, like cryptsetup's userspace check). With {@code repair}
     * non-null, corrected message blocks are handed to it as (block index, corrected bytes).
     */
    DecodeResult decode(FileChannel fec, long fecOffset, BlockSink repair, int threads) throws IOException {
        if (fec.size() < fecOffset + paritySize()) {
            throw new FormatException("fec-device", fec.size() + " bytes",
                    "FEC data is too small: " + paritySize() + " bytes of parity expected at offset " + fecOffset);
        }
        AtomicLong corrected = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong changed = new AtomicLong();
        int roots = rs.roots;
        int[] alphaLog = new int[roots];
        for (int k = 0; k < roots; k++) {
            alphaLog[k] = k;
        }
        parallel(threads, () -> {
            byte[][] symbols = new byte[rs.k][];
            byte[] parity = new byte[bs * roots];
            int[][] syn = new int[roots][bs];
            byte[] cw = new byte[ReedSolomon.N];
            int[] s = new int[roots];
            return n -> {
                for (int[] row : syn) {
                    java.util.Arrays.fill(row, 0);
                }
                for (int i = 0; i < rs.k; i++) {
                    long blk = n + (long) i * rounds;
                    byte[] block = new byte[bs];
                    if (blk < blocks) {
                        readBlock(blk, ByteBuffer.wrap(block));
                    }
                    symbols[i] = block;
                    horner(syn, block);
                }
                VeritySuperblock.readFully(fec, ByteBuffer.wrap(parity), fecOffset + n * (long) bs * roots);
                byte[] col = new byte[bs];
                for (int j = 0; j < roots; j++) {
                    for (int b = 0; b < bs; b++) {
                        col[b] = parity[b * roots + j];
                    }
                    horner(syn, col);
                }
                boolean[] dirty = new boolean[rs.k];
                for (int b = 0; b < bs; b++) {
                    boolean clean = true;
                    for (int k = 0; k < roots; k++) {
                        s[k] = syn[k][b];
                        clean &= s[k] == 0;
                    }
                    if (clean) {
                        continue;
                    }
                    for (int i = 0; i < rs.k; i++) {
                        cw[i] = symbols[i][b];
                    }
                    for (int j = 0; j < roots; j++) {
                        cw[rs.k + j] = parity[b * roots + j];
                    }
                    byte[] before = cw.clone();
                    int fixed = rs.correct(cw, s);
                    if (fixed < 0) {
                        failed.incrementAndGet();
                        continue;
                    }
                    corrected.addAndGet(fixed);
                    for (int i = 0; i < rs.k; i++) {
                        if (cw[i] != before[i]) {
                            symbols[i][b] = cw[i];
                            dirty[i] = true;
                        }
                    }
                }
                for (int i = 0; i < rs.k; i++) {
                    long blk = n + (long) i * rounds;
                    if (dirty[i] && blk < blocks) {
                        changed.incrementAndGet();
                        if (repair != null) {
                            repair.accept(blk, symbols[i]);
                        }
                    }
                }
            };
        });
        return new DecodeResult(corrected.get(), failed.get(), changed.get());
    }

    /** One Horner step of every syndrome for every byte position: S_k ← S_k·α^k + symbol. */
    private void horner(int[][] syn, byte[] symbol) {
        for (int k = 0; k < syn.length; k++) {
            int[] sk = syn[k];
            if (k == 0) {
                for (int b = 0; b < bs; b++) {
                    sk[b] ^= symbol[b] & 0xff;
                }
                continue;
            }
            for (int b = 0; b < bs; b++) {
                int v = sk[b];
                sk[b] = (v == 0 ? 0 : ReedSolomon.EXP[ReedSolomon.LOG[v] + k]) ^ (symbol[b] & 0xff);
            }
        }
    }

    /** Receives a corrected message block. */
    interface BlockSink {
        void accept(long block, byte[] bytes) throws IOException;
    }

    private void parallel(int threads, WorkerPool.WorkerFactory factory) throws IOException {
        WorkerPool.run("cairn-verity-fec", threads, rounds, factory);
    }
}
