package dev.cairn.pipeline.sysext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.disk.DpsType;
import dev.cairn.pipeline.sysext.ExtensionRelease.Architecture;
import dev.cairn.pipeline.sysext.ExtensionRelease.Kind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The extension-release file cairn writes (content, place) and the naming rules that let systemd
 * 252 and 256+ find it (ddi-sysext.md §4; systemd's {@code raw_strip_suffixes} and
 * {@code extension_release_validate}).
 */
class ExtensionReleaseTest {
    @Test
    void sysextWithVersionId() {
        ExtensionRelease r = new ExtensionRelease(Kind.SYSEXT, "foo", "debian", "12", null, null);
        assertThat(r.path()).isEqualTo("usr/lib/extension-release.d/extension-release.foo");
        assertThat(r.content()).isEqualTo("ID=debian\nVERSION_ID=12\n");
        assertThat(r.fileName()).isEqualTo("foo.raw");
    }

    @Test
    void sysextWithLevelAndArchitectureInThisOrder() {
        ExtensionRelease r = new ExtensionRelease(Kind.SYSEXT, "tools_1.2", "fedora", "39", "2", Architecture.X86_64);
        assertThat(r.content()).isEqualTo("ID=fedora\nVERSION_ID=39\nSYSEXT_LEVEL=2\nARCHITECTURE=x86-64\n");
        assertThat(new String(r.bytes(), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo(r.content());
    }

    @Test
    void confextLivesInEtcAndHasConfextLevel() {
        ExtensionRelease r = new ExtensionRelease(Kind.CONFEXT, "myconf", "debian", null, "1.0", Architecture.ARM64);
        assertThat(r.path()).isEqualTo("etc/extension-release.d/extension-release.myconf");
        assertThat(r.content()).isEqualTo("ID=debian\nCONFEXT_LEVEL=1.0\nARCHITECTURE=arm64\n");
        assertThat(Kind.CONFEXT.mergedDirectories()).containsExactly("etc");
        assertThat(Kind.SYSEXT.mergedDirectories()).containsExactlyInAnyOrder("usr", "opt");
    }

    @Test
    void anyIdNeedsNoVersionAndAnyArchitectureIsWritten() {
        ExtensionRelease r = new ExtensionRelease(Kind.SYSEXT, "foo", "_any", null, null, Architecture.ANY);
        assertThat(r.content()).isEqualTo("ID=_any\nARCHITECTURE=_any\n");
    }

    @Test
    void aSpecificIdNeedsVersionIdOrLevel() {
        assertThatThrownBy(() -> new ExtensionRelease(Kind.SYSEXT, "foo", "debian", null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("VERSION_ID= or SYSEXT_LEVEL=");
        assertThatThrownBy(() -> new ExtensionRelease(Kind.CONFEXT, "foo", "debian", null, null, null))
                .hasMessageContaining("VERSION_ID= or CONFEXT_LEVEL=");
        assertThatThrownBy(() -> new ExtensionRelease(Kind.SYSEXT, "foo", null, "12", null, null))
                .hasMessageContaining("needs ID=");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Debian", "deb ian", "debian\n", "a=b", "\"x\"", ""})
    void fieldsAreOsReleaseSafeStrings(String bad) {
        assertThatThrownBy(() -> new ExtensionRelease(Kind.SYSEXT, "foo", bad, "12", null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("os-release(5)");
        assertThatThrownBy(() -> new ExtensionRelease(Kind.SYSEXT, "foo", "debian", bad, null, null))
                .hasMessageContaining("VERSION_ID=");
        assertThatThrownBy(() -> new ExtensionRelease(Kind.SYSEXT, "foo", "debian", null, bad, null))
                .hasMessageContaining("SYSEXT_LEVEL=");
    }

    @ParameterizedTest
    @ValueSource(strings = {"foo", "foo-bar", "foo_1.2", "Foo+1", "9lives"})
    void validNames(String name) {
        assertThat(ExtensionRelease.checkName(name)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"foo.raw", "foo.img", "foo.bin", "foo.xz", "foo.gz", "foo.bz2", "foo.zst", "foo.qcow2", "foo.sysext",
            "foo.confext"})
    void namesEndingInSuffixesSystemdStripsAreRefused(String name) {
        // 252 strips .raw .img .bin .xz .gz .bz2 .qcow2 repeatedly, 256+ also .zst, .sysext.raw and .confext.raw:
        // NAME.raw would be looked up as another name by some version
        assertThatThrownBy(() -> ExtensionRelease.checkName(name)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("strips");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".hidden", ".#foo", "a/b", "a b", "é", "foo\n", "-x"})
    void namesOutsideThePortableSetAreRefused(String name) {
        assertThatThrownBy(() -> ExtensionRelease.checkName(name)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nameFitsExtensionReleaseFileName() {
        assertThat(ExtensionRelease.checkName("a".repeat(237))).hasSize(237);
        assertThatThrownBy(() -> ExtensionRelease.checkName("a".repeat(238))).hasMessageContaining("at most 237");
    }

    @Test
    void outputMustBeNameDotRaw() {
        ExtensionRelease.checkFileName(Path.of("foo.raw"), "foo");
        ExtensionRelease.checkFileName(Path.of("/var/lib/extensions/foo.raw"), "foo");
        assertThatThrownBy(() -> ExtensionRelease.checkFileName(Path.of("foo.img"), "foo"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must end in .raw").hasMessageContaining("foo.raw");
        assertThatThrownBy(() -> ExtensionRelease.checkFileName(Path.of("bar.raw"), "foo"))
                .hasMessageContaining("names this image 'bar'").hasMessageContaining("name the file foo.raw");
        // 252 takes foo.sysext.raw for an image named foo.sysext (256+ for foo): cairn writes NAME.raw only
        assertThatThrownBy(() -> ExtensionRelease.checkFileName(Path.of("foo.sysext.raw"), "foo"))
                .hasMessageContaining("names this image 'foo.sysext'");
        assertThatThrownBy(() -> ExtensionRelease.checkFileName(Path.of("foo.RAW"), "foo")).hasMessageContaining("must end in .raw");
    }

    @Test
    void architectures() {
        assertThat(Architecture.of("x86-64")).isEqualTo(Architecture.X86_64);
        assertThat(Architecture.of("arm64").dps()).contains(DpsType.Arch.ARM64);
        assertThat(Architecture.of("_any").dps()).isEmpty();
        assertThatThrownBy(() -> Architecture.of("amd64")).hasMessageContaining("x86-64, arm64 or _any");
        assertThatThrownBy(() -> Architecture.of("x86_64")).isInstanceOf(IllegalArgumentException.class);
    }
}
