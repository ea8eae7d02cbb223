package dev.cairn.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Small synthetic PE32+ EFI applications for tests that must not depend on an installed stub or
 * kernel: DOS header with {@code e_lfanew} 0x80, COFF header (x86-64), a 240-byte optional header
 * with 16 data directories, the section table at 0x188 (as in systemd's stubs), then each
 * section's raw data at FileAlignment. Written independently of cairn's PE code.
 */
public final class TinyPe {
    private TinyPe() {
    }

    /** A section: name, virtual address and content. */
    public record Section(String name, long virtualAddress, byte[] data) {
    }

    /** How the image is laid out. */
    public record Spec(int sectionAlignment, int fileAlignment, int sizeOfHeaders, int majorImageVersion, int dllCharacteristics,
                       List<Section> sections, byte[] symbolTable) {
        public static Spec stubLike(List<Section> sections) {
            return new Spec(0x200, 0x200, 0x400, 0, 0, sections, null);
        }
    }

    public static byte[] build(Spec s) {
        int n = s.sections().size();
        byte[] h = new byte[s.sizeOfHeaders()];
        h[0] = 'M';
        h[1] = 'Z';
        le(h, 0x3C, 0x80, 4);
        int pe = 0x80;
        h[pe] = 'P';
        h[pe + 1] = 'E';
        int coff = pe + 4;
        le(h, coff, 0x8664, 2);
        le(h, coff + 2, n, 2);
        le(h, coff + 16, 240, 2);
        le(h, coff + 18, 0x0206, 2);
        int opt = coff + 20;
        le(h, opt, 0x20B, 2);
        long entry = n > 0 ? s.sections().get(0).virtualAddress() : 0;
        le(h, opt + 16, entry, 4);
        le(h, opt + 20, entry, 4);
        le(h, opt + 32, s.sectionAlignment(), 4);
        le(h, opt + 36, s.fileAlignment(), 4);
        le(h, opt + 44, s.majorImageVersion(), 2);
        long end = 0;
        long initData = 0;
        for (Section x : s.sections()) {
            end = Math.max(end, x.virtualAddress() + x.data().length);
            initData += x.data().length;
        }
        le(h, opt + 8, initData, 4);
        le(h, opt + 56, up(end, s.sectionAlignment()), 4);
        le(h, opt + 60, s.sizeOfHeaders(), 4);
        le(h, opt + 68, 10, 2);
        le(h, opt + 70, s.dllCharacteristics(), 2);
        le(h, opt + 108, 16, 4);
        int table = opt + 240;
        if (table + 40 * n > s.sizeOfHeaders()) {
            throw new IllegalArgumentException("section table does not fit in SizeOfHeaders");
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        long pos = s.sizeOfHeaders();
        for (int i = 0; i < n; i++) {
            Section x = s.sections().get(i);
            int at = table + 40 * i;
            byte[] name = x.name().getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(name, 0, h, at, name.length);
            long raw = up(x.data().length, s.fileAlignment());
            le(h, at + 8, x.data().length, 4);
            le(h, at + 12, x.virtualAddress(), 4);
            le(h, at + 16, raw, 4);
            le(h, at + 20, pos, 4);
            le(h, at + 36, 0x4000_0040L, 4);
            body.writeBytes(x.data());
            body.writeBytes(new byte[(int) (raw - x.data().length)]);
            pos += raw;
        }
        if (s.symbolTable() != null) {
            le(h, coff + 8, pos, 4);
            le(h, coff + 12, (s.symbolTable().length - 4) / 18, 4);
            body.writeBytes(s.symbolTable());
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(h);
        all.writeBytes(body.toByteArray());
        return all.toByteArray();
    }

    /** A COFF symbol table of {@code symbols} zeroed 18-byte symbols and a 4-byte (empty) string table. */
    public static byte[] symbolTable(int symbols) {
        byte[] t = new byte[18 * symbols + 4];
        le(t, 18 * symbols, 4, 4);
        return t;
    }

    /** A systemd-stub-like image: .text, .data, a 0x100-byte .sbat slot followed by .sdmagic. */
    public static byte[] stub(String sbat, String version) {
        return build(Spec.stubLike(List.of(
                new Section(".text", 0x1000, SeededData.bytes(1, 3000)),
                new Section(".data", 0x2000, SeededData.bytes(2, 700)),
                new Section(".sbat", 0x3000, sbat.getBytes(StandardCharsets.UTF_8)),
                new Section(".sdmagic", 0x3100, ("#### LoaderInfo: systemd-stub " + version + " ####").getBytes(StandardCharsets.US_ASCII)))));
    }

    /** A kernel-like image (MajorImageVersion 1, NX compatible). */
    public static byte[] kernel(int size) {
        return build(new Spec(0x1000, 0x200, 0x1000, 1, 0x100, List.of(new Section(".text", 0x1000, SeededData.bytes(3, size))), null));
    }

    private static long up(long v, long a) {
        return (v + a - 1) / a * a;
    }

    private static void le(byte[] b, int off, long v, int width) {
        for (int i = 0; i < width; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }
}
