package dev.cairn.uki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.testing.TinyPe;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Profile selection, the multi-profile layout rules and PCR 12 events, on synthetic images. */
class UkiProfilesTest {
    static final String SBAT = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
            + "systemd,1,The systemd Developers,systemd,257,https://systemd.io/\n";
    @TempDir
    Path dir;

    @Test
    void selectTakesTheProfilesSectionsThenTheBasesItDoesNotOverride() {
        List<String> names = List.of(".text", ".osrel", ".cmdline", ".linux", ".sbat", ".profile", ".profile", ".cmdline", ".pcrsig",
                ".profile", ".initrd");
        assertThat(UkiProfiles.count(names)).isEqualTo(3);
        assertThat(UkiProfiles.select(names, 0)).containsExactly(5, 0, 1, 2, 3, 4);
        assertThat(UkiProfiles.select(names, 1)).containsExactly(6, 7, 8, 0, 1, 3, 4);
        assertThat(UkiProfiles.select(names, 2)).containsExactly(9, 10, 0, 1, 2, 3, 4);
        assertThatThrownBy(() -> UkiProfiles.select(names, 3)).hasMessageContaining("no profile @3").hasMessageContaining("3 profiles");
        // a single-profile UKI: @0 is the whole image, nothing else exists
        List<String> single = List.of(".text", ".cmdline", ".linux", ".cmdline");
        assertThat(UkiProfiles.select(single, 0)).containsExactly(0, 1, 2);
        assertThatThrownBy(() -> UkiProfiles.select(single, 1)).hasMessageContaining("no .profile sections");
        assertThatThrownBy(() -> UkiProfiles.select(single, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void profileFieldsAreReadLikeOsRelease() {
        assertThat(UkiProfiles.field("ID=debug\nTITLE=\"Debug mode\"\n", "TITLE")).contains("Debug mode");
        assertThat(UkiProfiles.field("ID=debug", "TITLE")).isEmpty();
        assertThat(UkiProfiles.field("ID=main\0", "ID")).contains("main");
    }

    @Test
    void layoutAllowsANameOncePerProfileAndKeepsLaterSbatsOutOfTheStubsSlot() throws IOException {
        byte[] stub = TinyPe.stub(SBAT, "257.13-1~deb13u1");
        List<UkiLayout.NewSection> ok = List.of(sec(".cmdline", "a"), sec(".linux", "k"), sec(".profile", "ID=main"), sec(".profile", "ID=x"),
                sec(".cmdline", "b"), sec(".profile", "ID=y"), sec(".cmdline", "c"), sec(".sbat", SBAT));
        UkiLayout.Plan plan = UkiLayout.plan(stub, ok, true);
        List<String> names = plan.sections().stream().map(s -> s.header().name()).toList();
        assertThat(names.stream().filter(".cmdline"::equals)).hasSize(3);
        // the profile's .sbat is a section of its own at the end, the stub's stays in place
        assertThat(names.stream().filter(".sbat"::equals)).hasSize(2);
        assertThat(names.get(names.size() - 1)).isEqualTo(".sbat");
        assertThatThrownBy(() -> UkiLayout.plan(stub, List.of(sec(".profile", "ID=x"), sec(".cmdline", "a"), sec(".cmdline", "b")), true))
                .isInstanceOf(FormatException.class).hasMessageContaining("given twice in one profile");
        assertThatThrownBy(() -> UkiLayout.plan(stub, List.of(sec(".cmdline", "a"), sec(".cmdline", "b")), true))
                .isInstanceOf(FormatException.class).hasMessageContaining("given twice");
    }

    @Test
    void stubOnlyPesFollowUkify257() throws IOException {
        Path stub = java.nio.file.Files.write(dir.resolve("addon.stub"), TinyPe.stub(SBAT, "257.13-1~deb13u1"));
        UkiBuilder.Prepared addon = UkiBuilder.prepareStubOnly(new UkiBuilder.StubOnlyInputs(stub, null, null,
                "quiet".getBytes(StandardCharsets.US_ASCII), null, "6.1", null, null, List.of(), null, null, List.of()));
        assertThat(addon.sections()).extracting(UkiLayout.NewSection::name).containsExactly(".cmdline", ".uname", ".sbat");
        assertThat(addon.sections().get(2).data().toBytes(1000)).asString(StandardCharsets.UTF_8)
                .endsWith("\n" + UkiBuilder.ADDON_SBAT_LINE + "\n\0");
        UkiBuilder.Prepared profile = UkiBuilder.prepareStubOnly(new UkiBuilder.StubOnlyInputs(stub, "ID=x".getBytes(StandardCharsets.US_ASCII),
                null, "quiet".getBytes(StandardCharsets.US_ASCII), null, null, null, null, List.of(), null, null, List.of()));
        assertThat(profile.sections()).extracting(UkiLayout.NewSection::name).containsExactly(".profile", ".cmdline");
        assertThatThrownBy(() -> UkiBuilder.prepareStubOnly(new UkiBuilder.StubOnlyInputs(stub, null, null, null, null, "6.1", null, null,
                List.of(), null, null, List.of()))).hasMessageContaining("needs at least one of .cmdline");
        assertThatThrownBy(() -> UkiBuilder.prepareStubOnly(new UkiBuilder.StubOnlyInputs(stub, null, null, "x".getBytes(StandardCharsets.US_ASCII),
                null, null, null, null, List.of(), null, null, List.of(sec(".linux", "k"))))).hasMessageContaining("no kernel");
    }

    @Test
    void cmdlineIsMangledAsSystemdStubDoes() {
        assertThat(Pcr12Predictor.mangle(" \t a=1\n\nb=2\u007f ")).isEqualTo("a=1  b=2");
        assertThat(Pcr12Predictor.mangle("   ")).isEmpty();
    }

    @Test
    void taggedEventDataIsTagSizeData() {
        assertThat(HexFormat.of().formatHex(Pcr12Predictor.tagged(Pcr12Predictor.UKI_PROFILE_EVENT_TAG_ID, Pcr12Predictor.utf16z("1"))))
                .isEqualTo("dbd6ae13" + "04000000" + "31000000");
    }

    @Test
    void pcr12ChainsProfileAndJoinedAddonCommandLines() throws Exception {
        Path uki = write("mp.efi", List.of(sec(".cmdline", "base"), sec(".uname", "6.1"), sec(".linux", "kernel"), sec(".profile", "ID=main"),
                sec(".profile", "ID=debug"), sec(".cmdline", "debug")));
        Path a = write("a.addon.efi", List.of(sec(".cmdline", " one=1 "), sec(".uname", "6.1")));
        Path b = write("b.addon.efi", List.of(sec(".cmdline", "two=2")));
        Path other = write("c.addon.efi", List.of(sec(".cmdline", "three=3"), sec(".uname", "6.2")));
        List<PcrPredictor.Bank> sha = List.of(PcrPredictor.Bank.SHA256);
        Pcr12Predictor.Result r = Pcr12Predictor.predict(UkiFile.open(uki), 1, true, List.of(addon(a), addon(other), addon(b)), sha);
        assertThat(r.events()).extracting(Pcr12Predictor.Event::description)
                .containsExactly("systemd-boot load options @1", "UKI profile 1", "one=1 two=2");
        assertThat(r.notes()).singleElement().asString().contains("c.addon.efi").contains(".uname 6.2");
        assertThat(HexFormat.of().formatHex(r.replay(PcrPredictor.Bank.SHA256))).isEqualTo(chain("@1", "1", "one=1 two=2"));
        Pcr12Predictor.Result direct = Pcr12Predictor.predict(UkiFile.open(uki), 1, false, List.of(), sha);
        assertThat(HexFormat.of().formatHex(direct.replay(PcrPredictor.Bank.SHA256))).isEqualTo(chain("1"));
        assertThat(Pcr12Predictor.predict(UkiFile.open(uki), 0, true, List.of(), sha).events()).isEmpty();
    }

    static String chain(String... utf16) throws Exception {
        byte[] pcr = new byte[32];
        for (String s : utf16) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(pcr);
            md.update(MessageDigest.getInstance("SHA-256").digest((s + "\0").getBytes(StandardCharsets.UTF_16LE)));
            pcr = md.digest();
        }
        return HexFormat.of().formatHex(pcr);
    }

    Pcr12Predictor.Addon addon(Path p) throws IOException {
        return new Pcr12Predictor.Addon(p.getFileName().toString(), UkiFile.open(p));
    }

    Path write(String name, List<UkiLayout.NewSection> sections) throws IOException {
        UkiLayout.Plan plan = UkiLayout.plan(TinyPe.stub(SBAT, "257.13-1~deb13u1"), sections, true);
        Path p = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            UkiWriter.write(plan, ch, "SHA-256", List.of());
        }
        return p;
    }

    static UkiLayout.NewSection sec(String name, String text) {
        return new UkiLayout.NewSection(name, SectionData.of(text.getBytes(StandardCharsets.UTF_8)));
    }
}
