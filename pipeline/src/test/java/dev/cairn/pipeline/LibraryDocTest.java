package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example in docs/library.md compiles against this build's API: the documentation cannot drift from the code. */
class LibraryDocTest {
    @TempDir
    Path dir;

    @Test
    void theExampleInTheLibraryGuideCompiles() throws Exception {
        Path doc = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../docs/library.md").normalize();
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(doc));
        assertThat(m.find()).as("a java block in " + doc).isTrue();
        String source = m.group(1);
        Matcher cls = Pattern.compile("public class (\\w+)").matcher(source);
        assertThat(cls.find()).isTrue();
        Path file = dir.resolve(cls.group(1) + ".java");
        Files.writeString(file, source);
        // surefire's own class path (java.class.path may be a manifest-only jar)
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null, List.of("-classpath", cp, "-d", dir.toString(), "--release", "17",
                "-Xlint:all", "-Werror"), null, javac.getStandardFileManager(null, null, null).getJavaFileObjects(file.toFile())).call();
        assertThat(ok).as(diagnostics.toString()).isTrue();
        assertThat(dir.resolve(cls.group(1) + ".class")).exists();
    }
}
