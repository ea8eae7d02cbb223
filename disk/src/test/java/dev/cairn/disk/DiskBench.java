package dev.cairn.disk;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * In-process timing of {@link GptWriter} (not a test):
 * {@code java -cp ... dev.cairn.disk.DiskBench ROOT ESP HASH SIG OUT [runs]} writes the four
 * partitions (sizes rounded up to 4 KiB) the way the Addendum of ddi-sysext.md timed repart
 * (1 GiB root + 128 MiB ESP + 16 MiB hash + 16 KiB signature: 0.91 s for repart 252).
 */
public final class DiskBench {
    private DiskBench() {
    }

    public static void main(String[] args) throws Exception {
        UUID seed = UUID.fromString("0f6e5cf2-8a3e-4b7e-9e1a-1c2d3e4f5a6b");
        DpsType[] types = {DpsType.ROOT_X86_64, DpsType.ESP, DpsType.ROOT_X86_64_VERITY, DpsType.ROOT_X86_64_VERITY_SIG};
        List<PartitionSpec> parts = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path p = Path.of(args[i]);
            long size = Math.max(4096, (Files.size(p) + 4095) / 4096 * 4096);
            parts.add(PartitionSpec.of(types[i], RepartUuids.partitionUuid(seed, types[i].uuid(), 0), 0, size, p));
        }
        DiskLayout l = DiskLayout.plan(RepartUuids.diskUuid(seed), parts, 0);
        int runs = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        for (int i = 0; i < runs; i++) {
            Files.deleteIfExists(Path.of(args[4]));
            long t0 = System.nanoTime();
            DiskResult r = GptWriter.write(l, Path.of(args[4]));
            long t1 = System.nanoTime();
            System.out.printf("run %d: %.3f s  %d bytes  sha256 %s%n", i, (t1 - t0) / 1e9, r.totalSize(), r.sha256Hex());
        }
    }
}
