package dev.cairn.uki.initrd;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small synthetic ELF64 little-endian files with a PT_LOAD covering the whole file, an
 * optional PT_INTERP and a PT_DYNAMIC section naming libraries: enough for the loader-facing parts
 * {@link ElfLinkInfo} reads, nothing executable.
 */
final class TestElf {
    static final long BASE = 0x400000;
    private int machine = ElfLinkInfo.EM_X86_64;
    private String interp;
    private final List<String> needed = new ArrayList<>();
    private String soname;
    private String runpath;
    private String rpath;

    TestElf machine(int m) {
        this.machine = m;
        return this;
    }

    TestElf interp(String path) {
        this.interp = path;
        return this;
    }

    TestElf needs(String... names) {
        needed.addAll(List.of(names));
        return this;
    }

    TestElf soname(String s) {
        this.soname = s;
        return this;
    }

    TestElf runpath(String p) {
        this.runpath = p;
        return this;
    }

    TestElf rpath(String p) {
        this.rpath = p;
        return this;
    }

    /** Layout: Ehdr (64) | Phdr × n (56 each) | interp | strtab | dynamic (8-aligned). */
    byte[] bytes() {
        ByteArrayOutputStream strtab = new ByteArrayOutputStream();
        strtab.write(0);
        List<long[]> dyn = new ArrayList<>();
        for (String n : needed) {
            dyn.add(new long[] {1, add(strtab, n)});
        }
        if (soname != null) {
            dyn.add(new long[] {14, add(strtab, soname)});
        }
        if (rpath != null) {
            dyn.add(new long[] {15, add(strtab, rpath)});
        }
        if (runpath != null) {
            dyn.add(new long[] {29, add(strtab, runpath)});
        }
        int phnum = 2 + (interp != null ? 1 : 0);
        int interpOff = 64 + phnum * 56;
        byte[] interpBytes = interp == null ? new byte[0] : (interp + "\0").getBytes(StandardCharsets.UTF_8);
        int strOff = interpOff + interpBytes.length;
        byte[] str = strtab.toByteArray();
        int dynOff = (strOff + str.length + 7) & ~7;
        dyn.add(new long[] {5, BASE + strOff});
        dyn.add(new long[] {10, str.length});
        dyn.add(new long[] {0, 0});
        int size = dynOff + dyn.size() * 16;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 3).putShort(18, (short) machine).putInt(20, 1);
        b.putLong(32, 64).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) phnum);
        int ph = 64;
        if (interp != null) {
            phdr(b, ph, 3, interpOff, interpBytes.length);
            ph += 56;
        }
        phdr(b, ph, 1, 0, size);
        phdr(b, ph + 56, 2, dynOff, dyn.size() * 16);
        b.put(interpOff, interpBytes);
        b.put(strOff, str);
        for (int i = 0; i < dyn.size(); i++) {
            b.putLong(dynOff + i * 16, dyn.get(i)[0]).putLong(dynOff + i * 16 + 8, dyn.get(i)[1]);
        }
        return b.array();
    }

    /** Offset of program header {@code index} (0 = PT_INTERP when there is one). */
    static int phdrOffset(int index) {
        return 64 + index * 56;
    }

    private static void phdr(ByteBuffer b, int at, int type, long offset, long filesz) {
        b.putInt(at, type).putInt(at + 4, 4).putLong(at + 8, offset).putLong(at + 16, BASE + offset).putLong(at + 24, BASE + offset)
                .putLong(at + 32, filesz).putLong(at + 40, filesz).putLong(at + 48, 0x1000);
    }

    private static long add(ByteArrayOutputStream strtab, String s) {
        long off = strtab.size();
        strtab.writeBytes((s + "\0").getBytes(StandardCharsets.UTF_8));
        return off;
    }
}
