package dev.cairn.uki;

import dev.cairn.io.FormatException;
import dev.cairn.uki.pe.OptionalHeader;
import dev.cairn.uki.pe.PeImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Assembles the sections of a UKI from its inputs, in ukify's file order
 * ({@code .osrel .cmdline .dtb .uname .splash .pcrpkey .initrd <extra> .linux .sbat}; with a systemd
 * 257 stub ukify 257's {@code … .pcrpkey .linux .initrd <extra> .sbat}; the caller
 * appends {@code .pcrsig} once the PCR policy is signed), and reads the facts the build needs
 * from the stub and kernel (stub version and measurement rule, kernel release, NX flag, SBAT).
 */
public final class UkiBuilder {
    /** Stubs larger than this are refused (Debian's is 83 KB). */
    public static final int MAX_STUB = 16 * 1024 * 1024;
    private static final int KERNEL_HEAD = 64 * 1024;

    private UkiBuilder() {
    }

    /**
     * What goes into a UKI. Nullable fields are left out; {@code sbat} null means ukify's default
     * UKI line, {@code uname} null means "read it from the kernel".
     */
    public record Inputs(Path stub, Path linux, List<Path> initrds, byte[] cmdline, byte[] osrel, String uname, Path splash,
                         Path devicetree, List<String> sbat, byte[] pcrpkey, List<UkiLayout.NewSection> extra) {
        public Inputs {
            initrds = List.copyOf(initrds);
            extra = List.copyOf(extra);
            sbat = sbat == null ? null : List.copyOf(sbat);
        }
    }

    /** The sections (file order, without .pcrsig) and the facts found on the way. */
    public record Prepared(byte[] stubBytes, Optional<StubInfo> stub, List<UkiLayout.NewSection> sections, boolean kernelNxCompat,
                           String uname, List<String> notes) {
        public Prepared {
            sections = List.copyOf(sections);
            notes = List.copyOf(notes);
        }

        public MeasurementRule rule() {
            return stub.isPresent() ? stub.get().rule() : MeasurementRule.SYSTEMD_257;
        }

        /** The sections plus more at the end (e.g. .pcrsig). */
        public List<UkiLayout.NewSection> with(List<UkiLayout.NewSection> more) {
            List<UkiLayout.NewSection> all = new ArrayList<>(sections);
            all.addAll(more);
            return all;
        }
    }

    public static Prepared prepare(Inputs in) throws IOException {
        List<String> notes = new ArrayList<>();
        if (Files.size(in.stub()) > MAX_STUB) {
            throw new FormatException("stub", Files.size(in.stub()), "larger than 16 MiB; not a systemd stub");
        }
        byte[] stubBytes = Files.readAllBytes(in.stub());
        PeImage stubImage = PeImage.read(new ByteArrayChannel(stubBytes));
        byte[] stubSbat = section(stubBytes, stubImage, ".sbat");
        Optional<StubInfo> stub = StubInfo.fromSections(section(stubBytes, stubImage, ".sdmagic"), stubSbat);

        PeImage kernel;
        byte[] head;
        byte[] kernelSbat = null;
        try (FileChannel ch = FileChannel.open(in.linux(), StandardOpenOption.READ)) {
            kernel = PeImage.read(ch);
            head = readHead(in.linux());
            var s = kernel.section(".sbat");
            if (s.isPresent() && s.get().virtualSize() <= 64 * 1024) {
                kernelSbat = new UkiFile(in.linux(), kernel).sectionBytes(".sbat").orElseThrow();
            }
        } catch (FormatException e) {
            throw new FormatException("--linux is not an EFI-stub kernel (PE image): " + e.getMessage(), e);
        }
        boolean nx = (kernel.optional().dllCharacteristics() & OptionalHeader.DLL_NX_COMPAT) != 0;
        String uname = in.uname() != null ? in.uname() : KernelInfo.uname(head).orElse(null);
        if (in.uname() == null && uname != null) {
            notes.add("kernel release " + uname + " read from the kernel's setup header");
        }

        List<UkiLayout.NewSection> s = new ArrayList<>();
        add(s, ".osrel", in.osrel());
        add(s, ".cmdline", in.cmdline());
        if (in.devicetree() != null) {
            s.add(new UkiLayout.NewSection(".dtb", SectionData.file(in.devicetree())));
        }
        if (uname != null) {
            add(s, ".uname", uname.getBytes(StandardCharsets.US_ASCII));
        }
        if (in.splash() != null) {
            s.add(new UkiLayout.NewSection(".splash", SectionData.file(in.splash())));
        }
        add(s, ".pcrpkey", in.pcrpkey());
        if (stub.isPresent() && stub.get().major() >= 257) {
            // ukify 257's file order (the ukify of the stub's release): .linux before .initrd, extra sections after;
            // a single initrd verbatim, as ukify's join_initrds (several: each padded to 4 bytes)
            s.add(new UkiLayout.NewSection(".linux", SectionData.file(in.linux())));
            if (!in.initrds().isEmpty()) {
                s.add(new UkiLayout.NewSection(".initrd", in.initrds().size() == 1 ? SectionData.file(in.initrds().get(0))
                        : SectionData.initrds(in.initrds())));
            }
            s.addAll(in.extra());
        } else {
            if (!in.initrds().isEmpty()) {
                s.add(new UkiLayout.NewSection(".initrd", SectionData.initrds(in.initrds())));
            }
            s.addAll(in.extra());
            s.add(new UkiLayout.NewSection(".linux", SectionData.file(in.linux())));
        }
        List<String> sbatTexts = new ArrayList<>();
        if (stubSbat != null) {
            sbatTexts.add(new String(stubSbat, StandardCharsets.UTF_8));
        }
        if (kernelSbat != null) {
            sbatTexts.add(new String(kernelSbat, StandardCharsets.UTF_8));
        }
        sbatTexts.addAll(in.sbat() == null ? List.of(Sbat.UKI_LINE) : in.sbat());
        try {
            s.add(new UkiLayout.NewSection(".sbat", SectionData.of(Sbat.merge(sbatTexts))));
        } catch (IllegalArgumentException e) {
            throw new FormatException("--sbat", null, e.getMessage());
        }
        return new Prepared(stubBytes, stub, s, nx, uname, notes);
    }

    /** ukify 257's default SBAT line of an add-on. */
    public static final String ADDON_SBAT_LINE =
            "uki-addon,1,UKI Addon,addon,1,https://www.freedesktop.org/software/systemd/man/latest/systemd-stub.html";

    /**
     * What goes into a PE built on the add-on stub without a kernel: a PE add-on ({@code profile} null) or a
     * profile PE for {@code --join-profile} ({@code profile} set). Nullable fields are left out; {@code sbat}
     * null means ukify's add-on line (profile PEs get no {@code .sbat}, as with ukify).
     */
    public record StubOnlyInputs(Path stub, byte[] profile, byte[] osrel, byte[] cmdline, Path devicetree, String uname, Path splash,
                                 byte[] pcrpkey, List<Path> initrds, Path microcode, List<String> sbat,
                                 List<UkiLayout.NewSection> extra) {
        public StubOnlyInputs {
            initrds = List.copyOf(initrds);
            extra = List.copyOf(extra);
            sbat = sbat == null ? null : List.copyOf(sbat);
        }
    }

    /**
     * Sections of an add-on or profile PE in ukify 257's order: {@code [.profile] .osrel .cmdline .dtb .uname
     * .splash .pcrpkey .initrd .ucode <extra> [.sbat]}. A {@code .linux} is refused: an add-on is not a UKI
     * (systemd-stub ignores add-ons with one), and a profile PE's kernel would replace the UKI's.
     */
    public static Prepared prepareStubOnly(StubOnlyInputs in) throws IOException {
        if (Files.size(in.stub()) > MAX_STUB) {
            throw new FormatException("stub", Files.size(in.stub()), "larger than 16 MiB; not a systemd stub");
        }
        byte[] stubBytes = Files.readAllBytes(in.stub());
        PeImage stubImage = PeImage.read(new ByteArrayChannel(stubBytes));
        Optional<StubInfo> stub = StubInfo.fromSections(section(stubBytes, stubImage, ".sdmagic"), section(stubBytes, stubImage, ".sbat"));
        if (stubImage.section(".linux").isPresent()) {
            throw new FormatException("stub", null, "has a .linux section: an add-on or profile PE is built on the add-on stub");
        }
        List<String> notes = new ArrayList<>();
        if (stubImage.section(".sbat").isPresent() && in.profile() == null) {
            notes.add("the stub has a .sbat of its own (a linux stub?); ukify builds add-ons on addon<arch>.efi.stub, "
                    + "which has none — the add-on's .sbat replaces it");
        }
        List<UkiLayout.NewSection> s = new ArrayList<>();
        add(s, ".profile", in.profile());
        add(s, ".osrel", in.osrel());
        add(s, ".cmdline", in.cmdline());
        if (in.devicetree() != null) {
            s.add(new UkiLayout.NewSection(".dtb", SectionData.file(in.devicetree())));
        }
        if (in.uname() != null) {
            add(s, ".uname", in.uname().getBytes(StandardCharsets.US_ASCII));
        }
        if (in.splash() != null) {
            s.add(new UkiLayout.NewSection(".splash", SectionData.file(in.splash())));
        }
        add(s, ".pcrpkey", in.pcrpkey());
        if (!in.initrds().isEmpty()) {
            s.add(new UkiLayout.NewSection(".initrd", in.initrds().size() == 1 ? SectionData.file(in.initrds().get(0))
                    : SectionData.initrds(in.initrds())));
        }
        if (in.microcode() != null) {
            s.add(new UkiLayout.NewSection(".ucode", SectionData.file(in.microcode())));
        }
        for (UkiLayout.NewSection x : in.extra()) {
            if (x.name().equals(".linux")) {
                throw new FormatException("section .linux", null, "an add-on or profile PE carries no kernel (that would be a UKI)");
            }
            s.add(x);
        }
        if (in.profile() == null) {
            if (s.stream().noneMatch(x -> List.of(".cmdline", ".dtb", ".dtbauto", ".initrd", ".ucode").contains(x.name()))) {
                throw new FormatException("add-on", null, "needs at least one of .cmdline, .dtb, .dtbauto, .initrd, .ucode "
                        + "(systemd-stub ignores add-ons without them)");
            }
            try {
                s.add(new UkiLayout.NewSection(".sbat", SectionData.of(Sbat.merge(in.sbat() == null ? List.of(ADDON_SBAT_LINE) : in.sbat()))));
            } catch (IllegalArgumentException e) {
                throw new FormatException("--sbat", null, e.getMessage());
            }
        } else if (in.sbat() != null) {
            throw new FormatException("--sbat", null, "a profile PE has no .sbat (ukify adds none; --join-profile would copy it "
                    + "into the UKI's profile)");
        }
        return new Prepared(stubBytes, stub, s, true, in.uname(), notes);
    }

    private static void add(List<UkiLayout.NewSection> s, String name, byte[] data) {
        if (data != null) {
            s.add(new UkiLayout.NewSection(name, SectionData.of(data)));
        }
    }

    private static byte[] section(byte[] file, PeImage image, String name) {
        java.util.Optional<dev.cairn.uki.pe.SectionHeader> found = image.section(name);
        if (found.isEmpty()) {
            return null;
        }
        dev.cairn.uki.pe.SectionHeader h = found.get();
        int len = Math.toIntExact(Math.min(h.virtualSize(), h.sizeOfRawData()));
        byte[] b = new byte[len];
        System.arraycopy(file, Math.toIntExact(h.pointerToRawData()), b, 0, len);
        return b;
    }

    private static byte[] readHead(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return in.readNBytes(KERNEL_HEAD);
        }
    }
}
