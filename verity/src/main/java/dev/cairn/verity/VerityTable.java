package dev.cairn.verity;

import java.util.ArrayList;
import java.util.List;

/**
 * The ways to hand a verity tree to the kernel: the device-mapper table line (as cryptsetup's
 * {@code get_dm_verity_params} builds it), {@code veritysetup open} arguments, and the systemd
 * kernel command line ({@code roothash=} plus {@code systemd.verity_root_*}, see
 * systemd-veritysetup-generator(8) and veritytab(5) for the option names).
 */
public final class VerityTable {
    private VerityTable() {
    }

    /**
     * {@code <hash_type> <data_dev> <hash_dev> <dbs> <hbs> <data_blocks> <hash_start_block> <alg> <root> <salt|->}
     * followed by the FEC options when FEC is used.
     */
    public static String dmTable(VerityResult r, String dataDev, String hashDev, String fecDev) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.hashType()).append(' ').append(dataDev).append(' ').append(hashDev).append(' ')
                .append(r.dataBlockSize()).append(' ').append(r.hashBlockSize()).append(' ')
                .append(r.dataBlocks()).append(' ').append(r.hashStartBlock()).append(' ')
                .append(r.hash().veritysetupName()).append(' ').append(r.rootHashHex()).append(' ').append(r.saltHex());
        if (r.fec() != null) {
            sb.append(" 8 use_fec_from_device ").append(fecDev)
                    .append(" fec_start ").append(r.fec().offset() / r.dataBlockSize())
                    .append(" fec_blocks ").append(r.fec().coveredBlocks())
                    .append(" fec_roots ").append(r.fec().roots());
        }
        return sb.toString();
    }

    /** Options a consumer needs besides the devices and root hash (veritysetup long-option names). */
    static List<String[]> options(VerityResult r, String fecDev) {
        List<String[]> o = new ArrayList<>();
        if (r.uuid() == null) {
            o.add(new String[] {"no-superblock", null});
            o.add(new String[] {"format", Integer.toString(r.hashType())});
            o.add(new String[] {"hash", r.hash().veritysetupName()});
            o.add(new String[] {"data-block-size", Integer.toString(r.dataBlockSize())});
            o.add(new String[] {"hash-block-size", Integer.toString(r.hashBlockSize())});
            o.add(new String[] {"data-blocks", Long.toString(r.dataBlocks())});
            o.add(new String[] {"salt", r.saltHex()});
        }
        if (r.hashOffset() != 0) {
            o.add(new String[] {"hash-offset", Long.toString(r.hashOffset())});
        }
        if (r.fec() != null) {
            o.add(new String[] {"fec-device", fecDev});
            if (r.fec().offset() != 0) {
                o.add(new String[] {"fec-offset", Long.toString(r.fec().offset())});
            }
            o.add(new String[] {"fec-roots", Integer.toString(r.fec().roots())});
        }
        return o;
    }

    /** {@code veritysetup open <data> <name> <hash> <root> [options]} as an argument list. */
    public static List<String> veritysetupOpenArgs(VerityResult r, String dataDev, String name, String hashDev,
                                                   String fecDev) {
        List<String> args = new ArrayList<>(List.of("open", dataDev, name, hashDev, r.rootHashHex()));
        for (String[] o : options(r, fecDev)) {
            args.add(o[1] == null ? "--" + o[0] : "--" + o[0] + "=" + o[1]);
        }
        return args;
    }

    /** Kernel command-line parameters for systemd-veritysetup-generator. */
    public static String kernelCommandLine(VerityResult r, String dataDev, String hashDev, String fecDev) {
        StringBuilder sb = new StringBuilder("roothash=").append(r.rootHashHex())
                .append(" systemd.verity_root_data=").append(dataDev)
                .append(" systemd.verity_root_hash=").append(hashDev);
        List<String> opts = new ArrayList<>();
        for (String[] o : options(r, fecDev)) {
            opts.add(o[0].equals("no-superblock") ? "superblock=false" : o[0] + "=" + o[1]);
        }
        if (!opts.isEmpty()) {
            sb.append(" systemd.verity_root_options=").append(String.join(",", opts));
        }
        return sb.toString();
    }
}
