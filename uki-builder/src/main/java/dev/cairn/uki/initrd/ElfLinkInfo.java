package dev.cairn.uki.initrd;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the dynamic loader needs from one ELF file: its machine, program interpreter
 * ({@code PT_INTERP}) and, from the {@code PT_DYNAMIC} segment, {@code DT_NEEDED},
 * {@code DT_SONAME}, {@code DT_RPATH} and {@code DT_RUNPATH} (System V ABI, "Dynamic Section";
 * ELF-64 Object File Format 1.5).
 *
 * <p>Only ELF64 little-endian files are read; anything else is refused with an
 * {@link UnsupportedFeatureException}. Every offset and size is checked against the file before
 * it is used, so a truncated or hostile file gives a {@link FormatException} naming the field.
 *
 * @param machine     {@code e_machine} (62 for x86-64)
 * @param interpreter the {@code PT_INTERP} path, empty for a static file or a shared library without one
 * @param needed      {@code DT_NEEDED} names in file order
 * @param soname      {@code DT_SONAME}, empty when absent
 * @param rpath       {@code DT_RPATH} split at {@code :}, unexpanded ({@code $ORIGIN} stays)
 * @param runpath     {@code DT_RUNPATH} split at {@code :}, unexpanded; empty list when absent
 * @param hasRunpath  whether a {@code DT_RUNPATH} entry exists (it disables {@code DT_RPATH})
 */
record ElfLinkInfo(int machine, Optional<String> interpreter, List<String> needed, Optional<String> soname, List<String> rpath,
        List<String> runpath, boolean hasRunpath) {
    static final int EM_X86_64 = 62;
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int DYN_SIZE = 16;
    private static final int PT_LOAD = 1;
    private static final int PT_DYNAMIC = 2;
    private static final int PT_INTERP = 3;
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;
    private static final long DT_STRTAB = 5;
    private static final long DT_STRSZ = 10;
    private static final long DT_SONAME = 14;
    private static final long DT_RPATH = 15;
    private static final long DT_RUNPATH = 29;
    /** Longest path or name accepted from a string table (PATH_MAX). */
    static final int MAX_STRING = 4096;
    /** Largest string table read into memory. */
    private static final long MAX_STRTAB = 64L << 20;
    /** Most dynamic entries read (real files have a few dozen). */
    private static final long MAX_DYN = 1 << 16;

    /**
     * ELF-64 file header ({@code Elf64_Ehdr}), the fields this reader uses.
     *
     * @param elfClass  e_ident[EI_CLASS] at 4 (2 = ELFCLASS64)
     * @param data      e_ident[EI_DATA] at 5 (1 = little-endian)
     * @param machine   e_machine at 18
     * @param phoff     e_phoff at 32
     * @param phentsize e_phentsize at 54
     * @param phnum     e_phnum at 56
     */
    record Header(int elfClass, int data, int machine, long phoff, int phentsize, int phnum) {
    }

    /**
     * ELF-64 program header ({@code Elf64_Phdr}), the fields this reader uses.
     *
     * @param type   p_type at 0
     * @param offset p_offset at 8
     * @param vaddr  p_vaddr at 16
     * @param filesz p_filesz at 32
     */
    record ProgramHeader(long type, long offset, long vaddr, long filesz) {
    }

    ElfLinkInfo {
        needed = List.copyOf(needed);
        rpath = List.copyOf(rpath);
        runpath = List.copyOf(runpath);
    }

    /** Whether {@code file} starts with the ELF magic (no further checks). */
    static boolean isElf(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            return readFully(ch, b, 0) && b.getInt(0) == 0x464c457f;
        }
    }

    static ElfLinkInfo read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            return read(ch, file.toString());
        }
    }

    private static ElfLinkInfo read(FileChannel ch, String name) throws IOException {
        long size = ch.size();
        ByteBuffer eh = ByteBuffer.allocate(EHDR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        if (size < 16 || !readFully(ch, eh.limit(16), 0)) {
            throw new FormatException(0, "e_ident", size, name + ": too short for an ELF header");
        }
        if (eh.getInt(0) != 0x464c457f) {
            throw new FormatException(0, "e_ident[EI_MAG]", String.format("%08x", Integer.reverseBytes(eh.getInt(0))),
                    name + ": not an ELF file");
        }
        int elfClass = eh.get(4);
        if (elfClass != 2) {
            throw new UnsupportedFeatureException("e_ident[EI_CLASS]", elfClass,
                    name + ": only 64-bit ELF (ELFCLASS64) is supported" + (elfClass == 1 ? ", this is a 32-bit file" : ""));
        }
        int data = eh.get(5);
        if (data != 1) {
            throw new UnsupportedFeatureException("e_ident[EI_DATA]", data, name + ": only little-endian ELF (ELFDATA2LSB) is supported");
        }
        eh.clear();
        if (size < EHDR_SIZE || !readFully(ch, eh, 0)) {
            throw new FormatException(0, "Elf64_Ehdr", size, name + ": truncated ELF header (64 bytes needed)");
        }
        Header h = new Header(elfClass, data, Short.toUnsignedInt(eh.getShort(18)), eh.getLong(32),
                Short.toUnsignedInt(eh.getShort(54)), Short.toUnsignedInt(eh.getShort(56)));
        if (h.phnum() == 0xffff) {
            throw new UnsupportedFeatureException("e_phnum", h.phnum(), name + ": extended program header numbering (PN_XNUM) is not supported");
        }
        List<ProgramHeader> phs = new ArrayList<>();
        if (h.phnum() > 0) {
            if (h.phentsize() < PHDR_SIZE) {
                throw new FormatException(54, "e_phentsize", h.phentsize(), name + ": program header entries must be at least 56 bytes");
            }
            checkRange(name, 32, "e_phoff", h.phoff(), (long) h.phnum() * h.phentsize(), size);
            ByteBuffer ph = ByteBuffer.allocate(PHDR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < h.phnum(); i++) {
                long at = h.phoff() + (long) i * h.phentsize();
                ph.clear();
                if (!readFully(ch, ph, at)) {
                    throw new FormatException(at, "Elf64_Phdr", i, name + ": truncated program header");
                }
                phs.add(new ProgramHeader(Integer.toUnsignedLong(ph.getInt(0)), ph.getLong(8), ph.getLong(16), ph.getLong(32)));
            }
        }
        Optional<String> interp = Optional.empty();
        ProgramHeader dynamic = null;
        List<ProgramHeader> loads = new ArrayList<>();
        for (ProgramHeader p : phs) {
            if (p.type() == PT_INTERP) {
                if (interp.isPresent()) {
                    throw new FormatException(p.offset(), "PT_INTERP", 2, name + ": more than one PT_INTERP segment");
                }
                checkRange(name, p.offset(), "PT_INTERP p_offset", p.offset(), p.filesz(), size);
                if (p.filesz() < 2 || p.filesz() > MAX_STRING) {
                    throw new FormatException(p.offset(), "PT_INTERP p_filesz", p.filesz(), name + ": implausible interpreter length");
                }
                ByteBuffer s = ByteBuffer.allocate(Math.toIntExact(p.filesz()));
                readOrFail(ch, s, p.offset(), name, "PT_INTERP");
                interp = Optional.of(cString(s.array(), 0, s.capacity(), name, p.offset(), "PT_INTERP"));
            } else if (p.type() == PT_DYNAMIC) {
                if (dynamic != null) {
                    throw new FormatException(p.offset(), "PT_DYNAMIC", 2, name + ": more than one PT_DYNAMIC segment");
                }
                checkRange(name, p.offset(), "PT_DYNAMIC p_offset", p.offset(), p.filesz(), size);
                dynamic = p;
            } else if (p.type() == PT_LOAD) {
                loads.add(p);
            }
        }
        if (dynamic == null) {
            return new ElfLinkInfo(h.machine(), interp, List.of(), Optional.empty(), List.of(), List.of(), false);
        }

        long count = Math.min(dynamic.filesz() / DYN_SIZE, MAX_DYN);
        ByteBuffer dyn = ByteBuffer.allocate(Math.toIntExact(count * DYN_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
        readOrFail(ch, dyn, dynamic.offset(), name, "PT_DYNAMIC");
        List<Long> neededOffsets = new ArrayList<>();
        long strtab = -1;
        long strsz = -1;
        long soname = -1;
        long rpath = -1;
        long runpath = -1;
        boolean terminated = false;
        for (int i = 0; i < count; i++) {
            long tag = dyn.getLong(i * DYN_SIZE);
            long val = dyn.getLong(i * DYN_SIZE + 8);
            if (tag == DT_NULL) {
                terminated = true;
                break;
            }
            if (tag == DT_NEEDED) {
                neededOffsets.add(val);
            } else if (tag == DT_STRTAB) {
                strtab = val;
            } else if (tag == DT_STRSZ) {
                strsz = val;
            } else if (tag == DT_SONAME) {
                soname = val;
            } else if (tag == DT_RPATH) {
                rpath = val;
            } else if (tag == DT_RUNPATH) {
                runpath = val;
            }
        }
        if (!terminated) {
            throw new FormatException(dynamic.offset(), "PT_DYNAMIC", count, name + ": dynamic section has no DT_NULL terminator");
        }
        boolean anyString = !neededOffsets.isEmpty() || soname >= 0 || rpath >= 0 || runpath >= 0;
        if (!anyString) {
            return new ElfLinkInfo(h.machine(), interp, List.of(), Optional.empty(), List.of(), List.of(), false);
        }
        if (strtab == -1 || strsz == -1) {
            throw new FormatException(dynamic.offset(), strtab == -1 ? "DT_STRTAB" : "DT_STRSZ", "missing",
                    name + ": dynamic section names libraries but has no string table");
        }
        if (strsz < 0 || strsz > MAX_STRTAB) {
            throw new FormatException(dynamic.offset(), "DT_STRSZ", Long.toUnsignedString(strsz), name + ": implausible string table size");
        }
        long strOff = fileOffset(loads, strtab, strsz, name);
        checkRange(name, dynamic.offset(), "DT_STRTAB", strOff, strsz, size);
        ByteBuffer strings = ByteBuffer.allocate(Math.toIntExact(strsz));
        readOrFail(ch, strings, strOff, name, "DT_STRTAB");
        byte[] st = strings.array();
        List<String> needed = new ArrayList<>();
        for (long off : neededOffsets) {
            String n = string(st, off, name, strOff, "DT_NEEDED");
            if (n.isEmpty()) {
                throw new FormatException(strOff, "DT_NEEDED", off, name + ": empty library name");
            }
            needed.add(n);
        }
        return new ElfLinkInfo(h.machine(), interp, needed,
                soname >= 0 ? Optional.of(string(st, soname, name, strOff, "DT_SONAME")) : Optional.empty(),
                rpath >= 0 ? split(string(st, rpath, name, strOff, "DT_RPATH")) : List.of(),
                runpath >= 0 ? split(string(st, runpath, name, strOff, "DT_RUNPATH")) : List.of(),
                runpath >= 0);
    }

    private static List<String> split(String path) {
        List<String> out = new ArrayList<>();
        for (String p : path.split(":", -1)) {
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }

    /** The file offset of virtual address {@code vaddr} through the PT_LOAD segment that holds {@code len} bytes there. */
    private static long fileOffset(List<ProgramHeader> loads, long vaddr, long len, String name) throws FormatException {
        for (ProgramHeader l : loads) {
            if (l.vaddr() < 0 || l.filesz() < 0) {
                continue;
            }
            long end = l.vaddr() + l.filesz();
            if (end >= l.vaddr() && Long.compareUnsigned(vaddr, l.vaddr()) >= 0 && Long.compareUnsigned(vaddr, end) < 0
                    && len <= end - vaddr) {
                return l.offset() + (vaddr - l.vaddr());
            }
        }
        throw new FormatException("DT_STRTAB", "0x" + Long.toHexString(vaddr), name + ": string table is not inside any PT_LOAD segment");
    }

    private static String string(byte[] table, long off, String name, long tableOffset, String field) throws FormatException {
        if (off < 0 || off >= table.length) {
            throw new FormatException(tableOffset, field, Long.toUnsignedString(off), name + ": string offset outside the string table ("
                    + table.length + " bytes)");
        }
        return cString(table, (int) off, table.length, name, tableOffset + off, field);
    }

    private static String cString(byte[] b, int from, int to, String name, long at, String field) throws FormatException {
        int limit = Math.min(to, from + MAX_STRING + 1);
        for (int i = from; i < limit; i++) {
            if (b[i] == 0) {
                return new String(b, from, i - from, StandardCharsets.UTF_8);
            }
        }
        throw new FormatException(at, field, null, name + ": string is not NUL-terminated within " + Math.min(to - from, MAX_STRING) + " bytes");
    }

    private static void checkRange(String name, long at, String field, long offset, long length, long fileSize) throws FormatException {
        if (offset < 0 || length < 0 || offset > fileSize || length > fileSize - offset) {
            throw new FormatException(at, field, Long.toUnsignedString(offset) + "+" + Long.toUnsignedString(length),
                    name + ": points outside the file (" + fileSize + " bytes)");
        }
    }

    private static void readOrFail(FileChannel ch, ByteBuffer b, long at, String name, String field) throws IOException {
        if (!readFully(ch, b, at)) {
            throw new FormatException(at, field, b.capacity(), name + ": file ended while reading (did it shrink?)");
        }
    }

    private static boolean readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                return false;
            }
            pos += n;
        }
        return true;
    }
}
