package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.disk.GptEntry;
import dev.cairn.disk.GptReader;
import dev.cairn.disk.GptTable;
import dev.cairn.disk.RepartUuids;
import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn disk assemble}: the disk it writes read back, and its refusals (DiskImageIT compares it with systemd-repart). */
class DiskAssembleCommandTest {
    static final UUID SEED = UUID.fromString("0f6e5cf2-8a3e-4b7e-9e1a-1c2d3e4f5a6b");

    @TempDir
    Path dir;

    @Test
    void writesThePartitionsInOrderRoundedToFourKibWithSeededUuids() throws IOException {
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        SeededData.writeFile(a, 1, 10_000);
        SeededData.writeFile(b, 2, 4096);
        Path out = dir.resolve("disk.raw");
        MainTest.Run r = run("disk", "assemble", out.toString(), "--seed", SEED.toString(), "--json", "--partition", "root-arm64:" + a,
                "--partition", "0fc63daf-8483-4772-8e79-3d69d8477de4:" + b + ":data: with a colon", "--partition", "linux-generic:" + b);
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.path("diskGuid").asText()).isEqualTo(RepartUuids.diskUuid(SEED).toString());
        GptTable t;
        try (FileChannel ch = FileChannel.open(out)) {
            t = GptReader.read(ch);
        }
        assertThat(t.problems()).isEmpty();
        assertThat(t.entries()).extracting(GptEntry::name).containsExactly("root-arm64", "data: with a colon", "linux-generic");
        GptEntry root = t.entries().get(0);
        assertThat(root.uuid()).isEqualTo(RepartUuids.partitionUuid(SEED, root.type(), 0));
        assertThat(t.size(root)).isEqualTo(12_288);
        assertThat(root.attributes()).isEqualTo(1L << 59);
        GptEntry second = t.entries().get(2);
        assertThat(second.uuid()).as("the 2nd linux-generic").isEqualTo(RepartUuids.partitionUuid(SEED, second.type(), 1));
        byte[] disk = Files.readAllBytes(out);
        int off = (int) t.offset(root);
        assertThat(Arrays.copyOfRange(disk, off, off + 10_000)).isEqualTo(Files.readAllBytes(a));
        assertThat(Arrays.copyOfRange(disk, off + 10_000, off + 12_288)).isEqualTo(new byte[2288]);
        assertThat(j.path("sha256").asText()).isEqualTo(ExampleGoldenTest.sha256(out));
    }

    @Test
    void refusesUnknownTypesAsUsageErrorsAndMissingFilesAsBadInput() throws IOException {
        Path out = dir.resolve("disk.raw");
        MainTest.Run bad = run("disk", "assemble", out.toString(), "--seed", SEED.toString(), "--partition", "rooot:x.img");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown partition type 'rooot'");
        assertThat(run("disk", "assemble", out.toString(), "--seed", SEED.toString(), "--partition", "esp").code()).isEqualTo(2);
        assertThat(run("disk", "assemble", out.toString(), "--seed", "not-a-uuid", "--partition", "esp:x.img").code()).isEqualTo(2);
        MainTest.Run missing = run("disk", "assemble", out.toString(), "--seed", SEED.toString(), "--partition",
                "esp:" + dir.resolve("nope.img"));
        assertThat(missing.code()).isEqualTo(3);
        assertThat(missing.err()).contains("nope.img");
        assertThat(out).doesNotExist();
    }
}
