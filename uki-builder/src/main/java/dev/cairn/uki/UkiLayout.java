package dev.cairn.uki;

import dev.cairn.io.Checked;
import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import dev.cairn.uki.pe.DataDirectory;
import dev.cairn.uki.pe.OptionalHeader;
import dev.cairn.uki.pe.PeImage;
import dev.cairn.uki.pe.SectionHeader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Plans a UKI: the stub's headers and sections plus the new sections, with every offset, size and
 * address decided before a byte is written (ukify's {@code pe_add_sections} rules, and stricter):
 * <ul>
 * <li>a signed stub, a non-EFI stub, trailing data or a symbol table not at the end are refused;
 *     a symbol table at the end is stripped (flagged {@code IMAGE_FILE_LOCAL_SYMS_STRIPPED});</li>
 * <li>existing sections keep their addresses; their raw data is laid out again from
 *     SizeOfHeaders, each rounded up to FileAlignment;</li>
 * <li>each new section starts at the next SectionAlignment boundary after the previous one, with
 *     VirtualSize = its exact length, characteristics MEM_READ|CNT_INITIALIZED_DATA
 *     (CNT_CODE for {@code .linux});</li>
 * <li>{@code .sbat} replaces the stub's in place when it fits both its raw data and its address
 *     slot, and otherwise moves to the end (the stub's old one is dropped) instead of
 *     overlapping the next section;</li>
 * <li>when the section table does not fit, SizeOfHeaders grows if the first section's address
 *     allows it, else the plan fails saying how many headers fit;</li>
 * <li>SizeOfImage, SizeOfInitializedData and (cleared) NX compatibility are recomputed; CheckSum
 *     and the certificate table are left to the writer.</li>
 * </ul>
 */
public final class UkiLayout {
    private static final int SYMBOL_SIZE = 18;

    private UkiLayout() {
    }

    /** A section to add: its name and content. */
    public record NewSection(String name, SectionData data) {
    }

    /** A section of the output in file order; {@code data} is exactly SizeOfRawData bytes. */
    public record PlannedSection(SectionHeader header, SectionData data, boolean fromStub) {
    }

    /**
     * The planned image. {@code headers} are the final SizeOfHeaders bytes with CheckSum zero and
     * no certificate table; sections follow contiguously in file order up to {@code size}.
     */
    public record Plan(byte[] headers, int checksumOffset, int securityDirectoryOffset, List<PlannedSection> sections,
                       long size, List<String> notes) {
        public Plan {
            headers = headers.clone();
            sections = List.copyOf(sections);
            notes = List.copyOf(notes);
        }

        @Override
        public byte[] headers() {
            return headers.clone();
        }
    }

    /**
     * Where {@code h} itself is in {@code headers} (by identity, not by the record's value equality:
     * the first {@code equals} of a record costs a fresh JVM some 10 ms of method-handle set-up).
     */
    private static int indexOfSame(List<SectionHeader> headers, SectionHeader h) {
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i) == h) {
                return i;
            }
        }
        throw new IllegalStateException("section header " + h.name() + " is not in the list");
    }

    /**
     * @param stubBytes     the stub file
     * @param sections      new sections in file order (a {@code .sbat} among them replaces the stub's)
     * @param kernelNxCompat whether the kernel declares NX compatibility; false clears the flag on the UKI
     */
    public static Plan plan(byte[] stubBytes, List<NewSection> sections, boolean kernelNxCompat) throws IOException {
        PeImage stub = PeImage.read(new ByteArrayChannel(stubBytes));
        List<String> notes = new ArrayList<>();
        if (stub.isSigned()) {
            throw new FormatException("stub", null, "the stub is already signed (Authenticode); signatures would not cover the "
                    + "added sections — use the unsigned stub (linuxx64.efi.stub)");
        }
        if (stub.optional().subsystem() != OptionalHeader.SUBSYSTEM_EFI_APPLICATION) {
            throw new FormatException("stub Subsystem", stub.optional().subsystem(), "the stub is not an EFI application (10)");
        }
        if (stub.optional().numberOfRvaAndSizes() <= DataDirectory.SECURITY) {
            throw new FormatException("stub NumberOfRvaAndSizes", stub.optional().numberOfRvaAndSizes(),
                    "the stub has no certificate table entry, so the UKI could not be signed");
        }
        var coff = stub.coff();
        long dataEnd = stub.endOfSectionData();
        long fileEnd = stub.fileSize();
        if (coff.pointerToSymbolTable() != 0) {
            long ptr = coff.pointerToSymbolTable();
            long strOff = ptr + SYMBOL_SIZE * coff.numberOfSymbols();
            if (ptr < dataEnd || strOff + 4 > stubBytes.length) {
                throw new FormatException("stub PointerToSymbolTable", ptr, "symbol table overlaps section data or the end of the file");
            }
            long end = strOff + LittleEndian.u32(stubBytes, Math.toIntExact(strOff), "string table size");
            if (end != stubBytes.length) {
                throw new FormatException("stub PointerToSymbolTable", ptr, "the symbol table is not at the end of the stub; "
                        + "refusing to guess what the " + (stubBytes.length - end) + " bytes after it are");
            }
            notes.add("stripped the stub's COFF symbol table (" + coff.numberOfSymbols() + " symbols, " + (stubBytes.length - ptr)
                    + " bytes)");
            coff = coff.withoutSymbolTable();
            fileEnd = ptr;
        }
        for (long i = dataEnd; i < fileEnd; i++) {
            if (stubBytes[Math.toIntExact(i)] != 0) {
                throw new FormatException(i, "stub", null, "the stub has " + (fileEnd - dataEnd)
                        + " bytes of data after its last section; refusing to drop or move them");
            }
        }

        OptionalHeader opt = stub.optional();
        long fa = opt.fileAlignment();
        long sa = opt.sectionAlignment();
        List<SectionHeader> existing = new ArrayList<>(stub.sections());
        List<NewSection> added = new ArrayList<>();
        NewSection inPlaceSbat = null;
        // A multi-profile UKI repeats names: each .profile starts a segment in which a name may appear once
        // (ukify's add_section; .dtbauto may repeat). Only the base segment's .sbat replaces the stub's.
        java.util.Set<String> segment = new java.util.HashSet<>();
        boolean base = true;
        for (NewSection s : sections) {
            if (s.data().size() == 0) {
                throw new FormatException("section " + s.name(), 0, "is empty; leave it out instead");
            }
            if (s.name().equals(".profile")) {
                segment.clear();
                base = false;
            }
            if (!segment.add(s.name()) && !s.name().equals(".dtbauto")) {
                throw new FormatException("section " + s.name(), null, base ? "given twice" : "given twice in one profile");
            }
            var old = stub.section(s.name());
            if (old.isEmpty() || !base && s.name().equals(".sbat")) {
                added.add(s);
                continue;
            }
            if (!s.name().equals(".sbat")) {
                throw new FormatException("section " + s.name(), null, "the stub already has a " + s.name() + " section");
            }
            SectionHeader o = old.get();
            long nextVa = Long.MAX_VALUE;
            for (SectionHeader h : stub.sections()) {
                if (h.virtualAddress() > o.virtualAddress()) {
                    nextVa = Math.min(nextVa, h.virtualAddress());
                }
            }
            if (s.data().size() <= o.sizeOfRawData() && o.virtualAddress() + s.data().size() <= nextVa) {
                inPlaceSbat = s;
            } else {
                existing.remove(indexOfSame(existing, o));
                added.add(s);
                notes.add("the merged .sbat (" + s.data().size() + " bytes) does not fit the stub's .sbat slot ("
                        + Math.min(o.sizeOfRawData(), nextVa - o.virtualAddress()) + " bytes before the next section); "
                        + "moved it to a new section at the end");
            }
        }
        if (existing.isEmpty()) {
            throw new FormatException("stub NumberOfSections", 0, "the stub has no sections");
        }

        int count = existing.size() + added.size();
        long tableEnd = stub.sectionTableOffset() + (long) SectionHeader.SIZE * count;
        long oldHeaders = opt.sizeOfHeaders();
        long sizeOfHeaders = alignUp(Math.max(oldHeaders, tableEnd), fa);
        if (existing.isEmpty()) {
            throw new java.util.NoSuchElementException("the stub has no sections");
        }
        long firstVa = Long.MAX_VALUE;
        for (SectionHeader h : existing) {
            firstVa = Math.min(firstVa, h.virtualAddress());
        }
        if (sizeOfHeaders > firstVa) {
            long fit = (alignDown(firstVa, fa) - stub.sectionTableOffset()) / SectionHeader.SIZE - existing.size();
            throw new FormatException("stub SizeOfHeaders", oldHeaders, "not enough header space for " + added.size()
                    + " new section headers: the table would end at " + tableEnd + " but the first section starts at RVA 0x"
                    + Long.toHexString(firstVa) + ", so at most " + Math.max(0, fit) + " can be added");
        }
        if (sizeOfHeaders > oldHeaders) {
            if (!opt.directory(DataDirectory.DEBUG).isEmpty()) {
                throw new FormatException("stub debug directory", null, "growing the headers would move raw data that the "
                        + "stub's debug directory points at; use a stub without debug data");
            }
            notes.add("grew SizeOfHeaders from 0x" + Long.toHexString(oldHeaders) + " to 0x" + Long.toHexString(sizeOfHeaders)
                    + " to fit " + count + " section headers");
        }
        int oldTableEnd = stub.sectionTableEnd();
        for (long i = oldTableEnd; i < Math.min(tableEnd, oldHeaders); i++) {
            if (stubBytes[Math.toIntExact(i)] != 0) {
                throw new FormatException(i, "stub headers", null, "bytes after the section table are not free (non-zero)");
            }
        }

        // Raw data of the stub's sections, in file order, from SizeOfHeaders on.
        List<PlannedSection> planned = new ArrayList<>();
        List<SectionHeader> table = new ArrayList<>();
        long cursor = sizeOfHeaders;
        List<SectionHeader> byPointer = SectionHeader.inFileOrder(existing);
        SectionHeader[] relocated = existing.toArray(new SectionHeader[0]);
        for (SectionHeader s : byPointer) {
            SectionData data;
            SectionHeader h;
            if (inPlaceSbat != null && s.name().equals(".sbat")) {
                long raw = alignUp(s.sizeOfRawData(), fa);
                long len = inPlaceSbat.data().size();
                data = new SectionData(concat(inPlaceSbat.data(), raw - len));
                h = s.withSizes(len, raw).withRaw(cursor, raw);
            } else {
                long raw = alignUp(s.sizeOfRawData(), fa);
                byte[] bytes = Arrays.copyOfRange(stubBytes, Math.toIntExact(s.pointerToRawData()),
                        Math.toIntExact(s.pointerToRawData() + s.sizeOfRawData()));
                data = new SectionData(List.of(new SectionData.Bytes(bytes), new SectionData.Zeros(raw - s.sizeOfRawData())));
                h = s.withRaw(cursor, raw);
            }
            planned.add(new PlannedSection(h, data, true));
            relocated[indexOfSame(existing, s)] = h;
            cursor += h.sizeOfRawData();
        }
        table.addAll(Arrays.asList(relocated));

        if (existing.isEmpty()) {
            throw new java.util.NoSuchElementException("the stub has no sections left");
        }
        long vaEnd = Long.MIN_VALUE;
        for (SectionHeader h : existing) {
            vaEnd = Math.max(vaEnd, h.virtualEnd());
        }
        long initData = opt.sizeOfInitializedData();
        for (NewSection s : added) {
            long len = s.data().size();
            long va = alignUp(vaEnd, sa);
            long raw = alignUp(len, fa);
            long flags = SectionHeader.MEM_READ
                    | (s.name().equals(".linux") ? SectionHeader.CNT_CODE : SectionHeader.CNT_INITIALIZED_DATA);
            SectionHeader h = SectionHeader.of(s.name(), Checked.unsigned(Checked.u32(s.name() + " VirtualSize", len)),
                    va, raw, cursor, flags);
            planned.add(new PlannedSection(h, new SectionData(concat(s.data(), raw - len)), false));
            table.add(h);
            cursor += raw;
            vaEnd = va + len;
            initData += len;
        }
        long sizeOfImage = alignUp(vaEnd, sa);
        Checked.u32("SizeOfImage", sizeOfImage);
        Checked.u32("SizeOfInitializedData", initData);
        Checked.u32("file size", cursor);
        int dll = opt.dllCharacteristics();
        if (!kernelNxCompat && (dll & OptionalHeader.DLL_NX_COMPAT) != 0) {
            dll &= ~OptionalHeader.DLL_NX_COMPAT;
            notes.add("cleared NX_COMPAT: the kernel does not declare it");
        }
        OptionalHeader newOpt = opt.withLayout(initData, sizeOfImage, sizeOfHeaders, 0, dll)
                .withDirectory(DataDirectory.SECURITY, DataDirectory.EMPTY);

        byte[] headers = new byte[Math.toIntExact(sizeOfHeaders)];
        System.arraycopy(stubBytes, 0, headers, 0, Math.toIntExact(Math.min(oldHeaders, sizeOfHeaders)));
        Arrays.fill(headers, stub.sectionTableOffset(), Math.toIntExact(Math.min(headers.length, Math.max(oldTableEnd, tableEnd))),
                (byte) 0);
        coff.withNumberOfSections(count).encode(headers, stub.peOffset() + 4);
        newOpt.encode(headers, stub.optionalHeaderOffset());
        for (int i = 0; i < table.size(); i++) {
            table.get(i).encode(headers, stub.sectionTableOffset() + SectionHeader.SIZE * i);
        }
        return new Plan(headers, stub.checksumOffset(), stub.securityDirectoryOffset(), planned, cursor, notes);
    }

    private static List<SectionData.Piece> concat(SectionData d, long zeros) {
        List<SectionData.Piece> p = new ArrayList<>(d.pieces());
        if (zeros > 0) {
            p.add(new SectionData.Zeros(zeros));
        }
        return p;
    }

    static long alignUp(long v, long a) {
        return (v + a - 1) / a * a;
    }

    static long alignDown(long v, long a) {
        return v / a * a;
    }
}
