package dev.cairn.uki;

import dev.cairn.io.FormatException;
import dev.cairn.uki.pe.AuthenticodeHash;
import dev.cairn.uki.pe.PeImage;
import dev.cairn.uki.pe.PeSignatures;
import dev.cairn.uki.pe.SectionHeader;
import dev.cairn.uki.pe.WinCertificate;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A PE image on disk (a UKI, a stub, a kernel) opened for inspection and measurement. Section
 * content is what a loader maps: VirtualSize bytes, raw data then zeros.
 */
public final class UkiFile {
    /** Sections shown as text by inspect. */
    public static final Set<String> TEXT_SECTIONS = Set.of(".cmdline", ".osrel", ".uname", ".sbat", ".pcrsig", ".pcrpkey",
            ".profile", ".sdmagic");
    private static final int MAX_TEXT = 1 << 20;

    private final Path path;
    private final PeImage image;

    /** An image whose headers were already read from {@code path}. */
    UkiFile(Path path, PeImage image) {
        this.path = path;
        this.image = image;
    }

    public static UkiFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new UkiFile(path, PeImage.read(ch));
        }
    }

    public Path path() {
        return path;
    }

    public PeImage image() {
        return image;
    }

    /** Content of a section as loaded: VirtualSize bytes (raw data, zero-filled past SizeOfRawData). */
    public SectionData content(SectionHeader s) {
        long raw = Math.min(s.virtualSize(), s.sizeOfRawData());
        List<SectionData.Piece> p = new ArrayList<>();
        if (raw > 0) {
            p.add(new SectionData.FileSlice(path, s.pointerToRawData(), raw));
        }
        if (s.virtualSize() > raw) {
            p.add(new SectionData.Zeros(s.virtualSize() - raw));
        }
        return new SectionData(p);
    }

    /** The first section of that name, as loaded. */
    public Optional<SectionData> section(String name) {
        return image.section(name).map(this::content);
    }

    /** A small section's bytes (text sections, keys), or empty when absent. */
    public Optional<byte[]> sectionBytes(String name) throws IOException {
        Optional<SectionHeader> s = image.section(name);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        if (s.get().virtualSize() > MAX_TEXT) {
            throw new FormatException("section " + name + " VirtualSize", s.get().virtualSize(), "larger than 1 MiB for a text section");
        }
        return Optional.of(content(s.get()).toBytes(MAX_TEXT));
    }

    public Optional<StubInfo> stub() throws IOException {
        return StubInfo.fromSections(sectionBytes(".sdmagic").orElse(null), sectionBytes(".sbat").orElse(null));
    }

    public List<WinCertificate> signatures() throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return PeSignatures.list(image, ch);
        }
    }

    public byte[] authenticodeDigest(String algorithm) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return AuthenticodeHash.compute(image, ch, algorithm);
        }
    }

    /** Digests of the sections a stub following {@code rule} measures when started without a profile (@0). */
    public List<PcrPredictor.SectionDigests> measuredSections(MeasurementRule rule, List<PcrPredictor.Bank> banks) throws IOException {
        return measuredSections(rule, banks, 0);
    }

    /**
     * Digests of the sections a stub following {@code rule} measures for profile {@code @profile}: that profile's
     * sections and the base sections it does not override ({@link UkiProfiles#select}).
     */
    public List<PcrPredictor.SectionDigests> measuredSections(MeasurementRule rule, List<PcrPredictor.Bank> banks, int profile)
            throws IOException {
        List<SectionHeader> all = image.sections();
        List<PcrPredictor.SectionDigests> out = new ArrayList<>();
        for (int i : UkiProfiles.select(all.stream().map(SectionHeader::name).toList(), profile)) {
            SectionHeader s = all.get(i);
            if (rule.sections().contains(s.name())) {
                out.add(PcrPredictor.digest(s.name(), content(s), banks));
            }
        }
        return out;
    }
}
