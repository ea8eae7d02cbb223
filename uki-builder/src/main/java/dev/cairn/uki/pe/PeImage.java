package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The headers of a PE/COFF image as read from untrusted input: DOS stub pointer, COFF header,
 * optional header with data directories, and section table. Every offset and size is checked
 * against the file before it is used; nothing larger than the headers themselves is read here.
 *
 * @param fileSize        size of the whole file
 * @param peOffset        {@code e_lfanew}: offset of the {@code PE\0\0} signature
 * @param coff            COFF header at {@code peOffset + 4}
 * @param optional        optional header at {@code peOffset + 24}
 * @param sections        section table at {@link #sectionTableOffset()}, in table order
 * @param headerBytes     the file's first bytes up to the end of the section table (or SizeOfHeaders if larger)
 */
public record PeImage(long fileSize, int peOffset, CoffHeader coff, OptionalHeader optional, List<SectionHeader> sections,
                      byte[] headerBytes) {
    /** e_lfanew beyond this is refused: real images keep it below a few hundred bytes. */
    public static final int MAX_PE_OFFSET = 64 * 1024;
    /** Headers (SizeOfHeaders) beyond this are refused. */
    public static final int MAX_HEADERS = 1024 * 1024;
    /** More sections than this are refused (the Windows loader's limit is 96). */
    public static final int MAX_SECTIONS = 1024;
    private static final int DOS_E_LFANEW = 0x3C;

    public PeImage {
        sections = List.copyOf(sections);
    }

    public int optionalHeaderOffset() {
        return peOffset + 4 + CoffHeader.SIZE;
    }

    public int sectionTableOffset() {
        return optionalHeaderOffset() + coff.sizeOfOptionalHeader();
    }

    /** Offset of the CheckSum field in the file. */
    public int checksumOffset() {
        return optionalHeaderOffset() + OptionalHeader.CHECKSUM_OFFSET;
    }

    /** Offset of the certificate table's data directory entry in the file. */
    public int securityDirectoryOffset() {
        return optionalHeaderOffset() + optional.dataDirectoriesOffset() + DataDirectory.SECURITY * DataDirectory.SIZE;
    }

    public DataDirectory securityDirectory() {
        return optional.directory(DataDirectory.SECURITY);
    }

    public boolean isSigned() {
        return securityDirectory().size() != 0;
    }

    public Optional<SectionHeader> section(String name) {
        for (SectionHeader s : sections) {
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** End of the section table: where the next section header would go. */
    public int sectionTableEnd() {
        return sectionTableOffset() + SectionHeader.SIZE * sections.size();
    }

    /** End of the last section's raw data in the file (at least SizeOfHeaders). */
    public long endOfSectionData() {
        long end = optional.sizeOfHeaders();
        for (SectionHeader s : sections) {
            if (s.sizeOfRawData() > 0) {
                end = Math.max(end, s.pointerToRawData() + s.sizeOfRawData());
            }
        }
        return end;
    }

    /** Reads and validates the headers. The channel's position is not relied upon. */
    public static PeImage read(SeekableByteChannel ch) throws IOException {
        long size = ch.size();
        if (size < 0x40) {
            throw new FormatException(0, "file size", size, "too small for a DOS header");
        }
        byte[] dos = readFully(ch, 0, 0x40);
        if (dos[0] != 'M' || dos[1] != 'Z') {
            throw new FormatException(0, "e_magic", null, "not a PE image (no MZ signature)");
        }
        long lfanew = LittleEndian.u32(dos, DOS_E_LFANEW, "e_lfanew");
        if (lfanew < 4 || lfanew > MAX_PE_OFFSET || lfanew + 4 + CoffHeader.SIZE > size) {
            throw new FormatException(DOS_E_LFANEW, "e_lfanew", lfanew, "PE header offset outside the file");
        }
        int peOffset = Math.toIntExact(lfanew);
        byte[] head = readFully(ch, 0, peOffset + 4 + CoffHeader.SIZE);
        if (head[peOffset] != 'P' || head[peOffset + 1] != 'E' || head[peOffset + 2] != 0 || head[peOffset + 3] != 0) {
            throw new FormatException(peOffset, "Signature", null, "no PE\\0\\0 signature at e_lfanew");
        }
        CoffHeader coff = CoffHeader.decode(head, peOffset + 4);
        if (coff.numberOfSections() > MAX_SECTIONS) {
            throw new FormatException(peOffset + 6, "NumberOfSections", coff.numberOfSections(), "too many sections");
        }
        if (coff.sizeOfOptionalHeader() < 96) {
            throw new FormatException(peOffset + 20, "SizeOfOptionalHeader", coff.sizeOfOptionalHeader(),
                    "too small for an image's optional header");
        }
        long tableEnd = lfanew + 4 + CoffHeader.SIZE + coff.sizeOfOptionalHeader()
                + (long) SectionHeader.SIZE * coff.numberOfSections();
        if (tableEnd > size) {
            throw new FormatException(peOffset + 6, "NumberOfSections", coff.numberOfSections(),
                    "section table ends at " + tableEnd + ", past the end of the " + size + "-byte file");
        }
        byte[] hdr = readFully(ch, 0, Math.toIntExact(tableEnd));
        int optOff = peOffset + 4 + CoffHeader.SIZE;
        OptionalHeader opt = OptionalHeader.decode(hdr, optOff, coff.sizeOfOptionalHeader());
        validateOptional(opt, optOff, size);
        if (opt.sizeOfHeaders() > tableEnd) {
            hdr = readFully(ch, 0, Math.toIntExact(opt.sizeOfHeaders()));
        }
        List<SectionHeader> sections = new ArrayList<>();
        int tableOff = optOff + coff.sizeOfOptionalHeader();
        for (int i = 0; i < coff.numberOfSections(); i++) {
            sections.add(SectionHeader.decode(hdr, tableOff + SectionHeader.SIZE * i, i));
        }
        PeImage image = new PeImage(size, peOffset, coff, opt, sections, hdr);
        image.validateSections();
        image.validateSecurityDirectory();
        return image;
    }

    private static void validateOptional(OptionalHeader opt, int optOff, long size) throws FormatException {
        if (!isPowerOfTwo(opt.fileAlignment()) || opt.fileAlignment() > 64 * 1024) {
            throw new FormatException(optOff + 36, "FileAlignment", opt.fileAlignment(), "not a power of two up to 64 KiB");
        }
        if (!isPowerOfTwo(opt.sectionAlignment()) || opt.sectionAlignment() > 1024 * 1024) {
            throw new FormatException(optOff + 32, "SectionAlignment", opt.sectionAlignment(), "not a power of two up to 1 MiB");
        }
        if (opt.sizeOfHeaders() > MAX_HEADERS || opt.sizeOfHeaders() > size) {
            throw new FormatException(optOff + 60, "SizeOfHeaders", opt.sizeOfHeaders(), "larger than the file or 1 MiB");
        }
    }

    private static boolean isPowerOfTwo(long v) {
        return v > 0 && (v & (v - 1)) == 0;
    }

    private void validateSections() throws FormatException {
        int tableOff = sectionTableOffset();
        for (int i = 0; i < sections.size(); i++) {
            SectionHeader s = sections.get(i);
            int at = tableOff + SectionHeader.SIZE * i;
            if (s.sizeOfRawData() > 0 && s.pointerToRawData() + s.sizeOfRawData() > fileSize) {
                throw new FormatException(at + 16, "section " + s.name() + " SizeOfRawData", s.sizeOfRawData(),
                        "raw data at " + s.pointerToRawData() + " runs past the end of the " + fileSize + "-byte file");
            }
            if (s.sizeOfRawData() > 0 && s.pointerToRawData() < Math.min(optional.sizeOfHeaders(), sectionTableEnd())) {
                throw new FormatException(at + 20, "section " + s.name() + " PointerToRawData", s.pointerToRawData(),
                        "raw data overlaps the headers");
            }
            if (s.virtualAddress() + s.virtualSize() > 0xFFFF_FFFFL) {
                throw new FormatException(at + 8, "section " + s.name() + " VirtualSize", s.virtualSize(),
                        "section extends past the 4 GiB address space");
            }
        }
        List<SectionHeader> byRaw = SectionHeader.inFileOrder(sections);
        for (int i = 1; i < byRaw.size(); i++) {
            SectionHeader a = byRaw.get(i - 1);
            SectionHeader b = byRaw.get(i);
            if (a.pointerToRawData() + a.sizeOfRawData() > b.pointerToRawData()) {
                throw new FormatException(b.pointerToRawData(), "section " + b.name() + " PointerToRawData", b.pointerToRawData(),
                        "raw data overlaps section " + a.name());
            }
        }
        List<SectionHeader> byVa = SectionHeader.inMemoryOrder(sections);
        for (int i = 1; i < byVa.size(); i++) {
            SectionHeader a = byVa.get(i - 1);
            SectionHeader b = byVa.get(i);
            if (a.virtualEnd() > b.virtualAddress()) {
                throw new FormatException(-1, "section " + b.name() + " VirtualAddress", String.format("0x%x", b.virtualAddress()),
                        "overlaps section " + a.name() + " in memory");
            }
        }
    }

    private void validateSecurityDirectory() throws FormatException {
        DataDirectory sec = securityDirectory();
        if (sec.size() == 0) {
            return;
        }
        if (sec.virtualAddress() < endOfSectionData() && sec.virtualAddress() < fileSize) {
            // The table sits at the end, after all section data; anything else is malformed.
            throw new FormatException(securityDirectoryOffset(), "certificate table offset", sec.virtualAddress(),
                    "lies inside the headers or section data");
        }
        if (sec.virtualAddress() + sec.size() > fileSize) {
            throw new FormatException(securityDirectoryOffset(), "certificate table", sec.virtualAddress() + "+" + sec.size(),
                    "runs past the end of the " + fileSize + "-byte file");
        }
    }

    static byte[] readFully(SeekableByteChannel ch, long pos, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        ch.position(pos);
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                throw new EOFException("unexpected end of file at offset " + (pos + buf.position()));
            }
        }
        return buf.array();
    }
}
