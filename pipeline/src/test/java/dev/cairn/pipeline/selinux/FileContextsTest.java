package dev.cairn.pipeline.selinux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.squashfs.EntryAttributes;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FileContextsTest {
    private static final int REG = EntryAttributes.S_IFREG;
    private static final int DIR = EntryAttributes.S_IFDIR;
    private static final int LNK = EntryAttributes.S_IFLNK;

    private static FileContexts fc(String base, String subs, String dist) throws FormatException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("file_contexts", base.getBytes(StandardCharsets.UTF_8));
        return FileContexts.parse(m, subs == null ? null : subs.getBytes(StandardCharsets.US_ASCII),
                dist == null ? null : dist.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void theLastMatchingRegexWinsAndExactPathsBeatEveryRegex() throws Exception {
        FileContexts f = fc("""
                # comment
                /.*\tu:r:default_t:s0
                /usr(/.*)?\tu:r:usr_t:s0
                /usr/bin\tu:r:exact_t:s0
                /usr/bin(/.*)?\tu:r:bin_t:s0
                   /usr/lib/.*\\.so(\\.[^/]*)*  --  u:r:lib_t:s0
                """, null, null);
        assertThat(f.lookup("/", DIR)).isEqualTo("u:r:default_t:s0");
        assertThat(f.lookup("/usr", DIR)).isEqualTo("u:r:usr_t:s0");
        assertThat(f.lookup("/usr/bin", DIR)).isEqualTo("u:r:exact_t:s0"); // exact, although a later regex matches
        assertThat(f.lookup("/usr/bin/ls", REG)).isEqualTo("u:r:bin_t:s0");
        assertThat(f.lookup("/usr/lib/libc.so.6", REG)).isEqualTo("u:r:lib_t:s0");
        assertThat(f.lookup("/usr/lib/libc.so.6", LNK)).isEqualTo("u:r:usr_t:s0"); // '--' is regular files only
        assertThat(f.lookup("/usr/lib/libc.so.6", 0)).isEqualTo("u:r:lib_t:s0"); // type 0 matches any qualifier
        assertThat(f.lookup("/usr/bin/", DIR)).isEqualTo("u:r:exact_t:s0"); // trailing slash dropped
        assertThat(f.lookup("//usr//bin", DIR)).isEqualTo("u:r:exact_t:s0");
    }

    @Test
    void noneAndNoMatchLeaveTheEntryUnlabelled() throws Exception {
        FileContexts f = fc("""
                /tmp\t-d\tu:r:tmp_t:s0
                /tmp/.*\t<<none>>
                /tmp/keep\tu:r:keep_t:s0
                """, null, null);
        assertThat(f.lookup("/tmp", DIR)).isEqualTo("u:r:tmp_t:s0");
        assertThat(f.lookup("/tmp", REG)).isNull();
        assertThat(f.lookup("/tmp/x", REG)).isNull();
        assertThat(f.lookup("/tmp/keep", REG)).isEqualTo("u:r:keep_t:s0");
        assertThat(f.lookup("/etc", DIR)).isNull();
    }

    @Test
    void substitutionsLocalFirstThenDistOnTheResult() throws Exception {
        FileContexts f = fc("""
                /usr/lib(/.*)?\tu:r:lib_t:s0
                /usr/lib/systemd(/.*)?\tu:r:systemd_t:s0
                /opt/x(/.*)?\tu:r:optx_t:s0
                /\tu:r:root_t:s0
                """, "/srv/lib /lib\n/data /\n", "/lib /usr/lib\n/lib/systemd /usr/lib/systemd\n#/libx /nothing\n");
        assertThat(f.lookup("/lib", DIR)).isEqualTo("u:r:lib_t:s0");
        assertThat(f.lookup("/lib/systemd/systemd", REG)).isEqualTo("u:r:systemd_t:s0");
        assertThat(f.lookup("/libfoo", REG)).isNull(); // a prefix must end at a '/'
        assertThat(f.lookup("/srv/lib/x", REG)).isEqualTo("u:r:lib_t:s0"); // .subs, then .subs_dist on its result
        assertThat(f.lookup("/data", DIR)).isEqualTo("u:r:root_t:s0");
        assertThat(f.lookup("/data/opt/x/y", REG)).isEqualTo("u:r:optx_t:s0"); // DST "/" swallows the slash
    }

    @Test
    void regexSyntaxAsPcre2ReadsIt() throws Exception {
        FileContexts f = fc("""
                /a|/b\tu:r:alt_t:s0
                /c/[]x]+\tu:r:bracket_t:s0
                /d/[[:digit:]]+\tu:r:digit_t:s0
                /e/x{\tu:r:brace_t:s0
                /f/y{2}\tu:r:quant_t:s0
                /g/[a&&b]\tu:r:amp_t:s0
                """, null, null);
        // "^/a|/b$": anything starting with /a, or ending with /b
        assertThat(f.lookup("/axyz/q", REG)).isEqualTo("u:r:alt_t:s0");
        assertThat(f.lookup("/q/r/b", REG)).isEqualTo("u:r:alt_t:s0");
        assertThat(f.lookup("/c/]x]", REG)).isEqualTo("u:r:bracket_t:s0");
        assertThat(f.lookup("/d/123", REG)).isEqualTo("u:r:digit_t:s0");
        assertThat(f.lookup("/d/12a", REG)).isNull();
        assertThat(f.lookup("/e/x{", REG)).isEqualTo("u:r:brace_t:s0");
        assertThat(f.lookup("/f/yy", REG)).isEqualTo("u:r:quant_t:s0");
        assertThat(f.lookup("/g/&", REG)).isEqualTo("u:r:amp_t:s0");
        // PCRE2_DOTALL: '.' matches a newline; '$' also matches before a final newline
        FileContexts g = fc("/n/.*\tu:r:nl_t:s0\n/m\tu:r:m_t:s0\n", null, null);
        assertThat(g.lookup("/n/a\nb", REG)).isEqualTo("u:r:nl_t:s0");
    }

    @Test
    void aSpecWithALiteralFirstComponentOnlySeesPathsWithIt() throws Exception {
        // stem "/us\\r": libselinux compares stems as text, so this never matches /usr/...
        FileContexts f = fc("/us\\r/.*\tu:r:never_t:s0\n", null, null);
        assertThat(f.lookup("/usr/x", REG)).isNull();
    }

    @Test
    void badFilesFailAsSetfilesDoes() {
        assertThatThrownBy(() -> fc("/a\n", null, null)).hasMessageContaining("missing fields");
        assertThatThrownBy(() -> fc("/a -x u:r:t:s0\n", null, null)).hasMessageContaining("invalid file type");
        assertThatThrownBy(() -> fc("/a( u:r:t:s0\n", null, null)).hasMessageContaining("invalid regex");
        assertThatThrownBy(() -> fc("/a u:r:t:s0\n/a -- u:r:u:s0\n", null, null)).hasMessageContaining("multiple different");
        assertThatThrownBy(() -> fc("/a\u00e9 u:r:t:s0\n", null, null)).hasMessageContaining("non-ASCII");
    }

    @Test
    void helpers() {
        assertThat(FileContexts.hasMetaChars("/usr/bin")).isFalse();
        assertThat(FileContexts.hasMetaChars("/usr/\\.bin")).isFalse();
        assertThat(FileContexts.hasMetaChars("/usr/bin(/.*)?")).isTrue();
        assertThat(FileContexts.stemOfSpec("/usr/bin(/.*)?")).isEqualTo("/usr");
        assertThat(FileContexts.stemOfSpec("/usr(/.*)?")).isNull();
        assertThat(FileContexts.literalPrefix("/usr/lib64?/x")).isEqualTo("/usr/lib6");
        assertThat(FileContexts.literalPrefix("/usr/lib+")).isEqualTo("/usr/lib");
        assertThat(FileContexts.literalPrefix("/a|/b")).isEmpty();
    }
}
