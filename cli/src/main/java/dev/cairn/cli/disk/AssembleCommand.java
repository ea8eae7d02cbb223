package dev.cairn.cli.disk;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.OutputFile;
import dev.cairn.disk.DiskLayout;
import dev.cairn.disk.DiskResult;
import dev.cairn.disk.DpsType;
import dev.cairn.disk.GptWriter;
import dev.cairn.disk.PartitionSpec;
import dev.cairn.disk.PlacedPartition;
import dev.cairn.disk.RepartUuids;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cairn disk assemble OUT --partition TYPE:FILE[:LABEL]... --seed UUID}: a GPT disk from
 * ready-made partition contents, as {@code systemd-repart --empty=create --size=auto --seed=UUID}
 * writes it from one {@code Type=} and {@code CopyBlocks=} definition per partition (a thin face of
 * {@link DiskLayout#plan} and {@link GptWriter#write(DiskLayout, Path)}).
 */
@Command(name = "assemble", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a GPT disk image from ready-made partitions, as systemd-repart does.",
                "Laid out byte for byte as systemd-repart 252 lays out the same partitions (CopyBlocks= each FILE, "
                        + "--empty=create --size=auto --seed=UUID): each partition is its file rounded up to 4 KiB; the disk "
                        + "GUID and the partition UUIDs derive from --seed as repart derives them (the k-th partition of a type "
                        + "from the type and k), the flags are repart's defaults (read-only on verity partitions, grow-fs on "
                        + "root, usr, home, srv, var, tmp, xbootldr). For scripts and benchmarks: cairn build writes complete "
                        + "DDIs (outputs.disk)."})
public final class AssembleCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    private final OutputFile outputFile = new OutputFile("OUT");
    Path out;

    @Parameters(index = "0", arity = "0..1", paramLabel = "OUT", description = "The disk image to write (replaced atomically); or --output.")
    void outputArgument(Path p) {
        outputFile.set(spec, p);
    }

    @Option(names = {"--output", "-o"}, paramLabel = "FILE", description = "The disk image to write, instead of OUT.")
    void outputOption(Path p) {
        outputFile.set(spec, p);
    }

    @Option(names = "--partition", required = true, paramLabel = "TYPE:FILE[:LABEL]", converter = PartitionArg.Converter.class,
            description = {"A partition, in disk order. TYPE: a DPS type name",
                    "(esp, root-x86-64, root-x86-64-verity, ...) or a",
                    "type GUID; FILE: its content; LABEL: its GPT name",
                    "(default: the type's name, then NAME-2, NAME-3, ...)."})
    List<PartitionArg> partitions;
    @Option(names = "--seed", required = true, paramLabel = "UUID",
            description = {"systemd-repart's --seed: the disk GUID and the", "partition UUIDs derive from it."})
    UUID seed;
    @Mixin
    JsonOption json;

    /** One {@code --partition TYPE:FILE[:LABEL]}; {@code label} null for the default. */
    record PartitionArg(UUID type, String typeName, Path file, String label) {
        static final class Converter implements CommandLine.ITypeConverter<PartitionArg> {
            @Override
            public PartitionArg convert(String value) {
                String[] f = value.split(":", 3);
                if (f.length < 2 || f[0].isEmpty() || f[1].isEmpty()) {
                    throw new CommandLine.TypeConversionException("'" + value + "' is not TYPE:FILE[:LABEL]");
                }
                UUID type;
                String name;
                var known = DpsType.byName(f[0]);
                if (known.isPresent()) {
                    type = known.get().uuid();
                    name = known.get().systemdName();
                } else {
                    try {
                        type = UUID.fromString(f[0]);
                    } catch (IllegalArgumentException e) {
                        throw new CommandLine.TypeConversionException("unknown partition type '" + f[0]
                                + "' (a DPS name such as esp, root-x86-64, root-x86-64-verity, or a type GUID)");
                    }
                    name = DpsType.of(type).map(DpsType::systemdName).orElse(type.toString());
                }
                return new PartitionArg(type, name, Path.of(f[1]), f.length == 3 ? f[2] : null);
            }
        }
    }

    @Override
    public Integer call() throws IOException {
        out = outputFile.require(spec);
        List<PartitionSpec> specs = new ArrayList<>();
        List<UUID> types = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        for (PartitionArg p : partitions) {
            long size = Files.size(p.file());
            long rounded = Math.max(PartitionSpec.GRAIN, (size + PartitionSpec.GRAIN - 1) / PartitionSpec.GRAIN * PartitionSpec.GRAIN);
            int k = (int) types.stream().filter(p.type()::equals).count();
            types.add(p.type());
            String label = p.label();
            if (label == null) { // repart's partition_acquire_label: the type's name, then NAME-2, NAME-3, ...
                label = p.typeName();
                for (int n = 2; labels.contains(label); n++) {
                    label = p.typeName() + "-" + n;
                }
            }
            labels.add(label);
            long flags = DpsType.of(p.type()).map(DpsType::repartDefaultAttributes).orElse(0L);
            specs.add(new PartitionSpec(p.type(), RepartUuids.partitionUuid(seed, p.type(), k), label, flags, rounded, p.file()));
        }
        DiskLayout layout = DiskLayout.plan(RepartUuids.diskUuid(seed), specs, 0);
        // the SHA-256s (one pass more, computed while writing) only for --json; otherwise a plain in-kernel copy
        DiskResult r = json.enabled() ? GptWriter.write(layout, out) : GptWriter.writeUndigested(layout, out);

        PrintWriter w = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", out.toString());
            m.put("size", r.totalSize());
            m.put("rawSize", r.totalSize());
            m.put("diskGuid", layout.diskGuid().toString());
            m.put("seed", seed.toString());
            m.put("sha256", r.sha256Hex());
            List<Map<String, Object>> ps = new ArrayList<>();
            for (int i = 0; i < layout.partitions().size(); i++) {
                PlacedPartition p = layout.partitions().get(i);
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("number", p.number());
                x.put("designator", partitions.get(i).typeName());
                x.put("type", p.spec().type().toString());
                x.put("uuid", p.spec().uuid().toString());
                x.put("label", p.spec().label());
                x.put("attributes", String.format(Locale.ROOT, "0x%016x", p.spec().attributes()));
                x.put("offset", p.offset());
                x.put("size", p.size());
                x.put("sha256", r.partitions().get(i).sha256Hex());
                ps.add(x);
            }
            m.put("partitions", ps);
            JsonOption.print(w, m);
        } else {
            w.printf(Locale.ROOT, "%s: %d bytes, disk GUID %s%n", out, r.totalSize(), layout.diskGuid());
            for (int i = 0; i < layout.partitions().size(); i++) {
                PlacedPartition p = layout.partitions().get(i);
                w.printf(Locale.ROOT, "  %-2d %-24s %-36s %-24s %12d %12d%n", p.number(), partitions.get(i).typeName(), p.spec().uuid(),
                        p.spec().label(), p.offset(), p.size());
            }
        }
        w.flush();
        return 0;
    }
}
