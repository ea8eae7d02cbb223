package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ExampleSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn build} shows what {@code rootfs.overlay} and {@code rootfs.clean} did: under the rootfs step, and in {@code --json}. */
class BuildRootfsTreeTest {
    @TempDir
    Path dir;

    @Test
    void theStepLinesAndTheJsonNameEachOverlayAndCleanUp() throws Exception {
        Path spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        Files.writeString(dir.resolve("rootfs/etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
        Files.createDirectories(dir.resolve("overlay/etc"));
        Files.writeString(dir.resolve("overlay/etc/motd"), "hello\n");
        Files.writeString(spec, Files.readString(spec).replace("  compression: zstd\n",
                "  compression: zstd\n  overlay: [overlay]\n  clean: [machine-id, logs]\n"));
        MainTest.Run r = MainTest.run("build", spec.toString(), "--out", dir.resolve("out").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("      rootfs done", "        overlay overlay: 2 entries\n",
                "        clean-up machine-id: 0 removed, 1 emptied\n", "        clean-up logs: 0 removed, 0 emptied\n");
        MainTest.Run j = MainTest.run("build", spec.toString(), "--out", dir.resolve("out").toString(), "--json");
        assertThat(j.code()).as(j.err()).isZero();
        assertThat(j.out()).contains("\"cache\" : \"hit\"").contains("\"notes\" : [ \"overlay overlay: 2 entries\", "
                + "\"clean-up machine-id: 0 removed, 1 emptied\", \"clean-up logs: 0 removed, 0 emptied\" ]");
    }
}
