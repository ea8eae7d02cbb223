package dev.cairn.cli.verity;

import dev.cairn.cli.JsonOption;
import dev.cairn.verity.VerityResult;
import dev.cairn.verity.VeritySuperblock;
import java.io.PrintWriter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/** veritysetup-style text reports and their JSON equivalents. */
final class VerityReport {
    private VerityReport() {
    }

    /** Exactly what {@code veritysetup format} prints. */
    static void formatText(PrintWriter out, String hashName, VerityResult r) {
        out.println("VERITY header information for " + hashName);
        out.println("UUID:            \t" + (r.uuid() == null ? "" : r.uuid()));
        out.println("Hash type:       \t" + r.hashType());
        out.println("Data blocks:     \t" + r.dataBlocks());
        out.println("Data block size: \t" + r.dataBlockSize());
        out.println("Hash blocks:     \t" + r.hashBlocks());
        out.println("Hash block size: \t" + r.hashBlockSize());
        out.println("Hash algorithm:  \t" + r.hash().veritysetupName());
        if (r.fec() != null) {
            out.println("FEC RS roots:   \t" + r.fec().roots());
            out.println("FEC blocks:     \t" + r.fec().rsBlocks());
        }
        out.println("Salt:            \t" + r.saltHex());
        out.println("Root hash:      \t" + r.rootHashHex());
        if (r.hashOffset() == 0) {
            out.println("Hash device size: \t" + r.hashDeviceSize() + " [bytes]");
        }
        if (r.fec() != null) {
            out.println("FEC device size: \t" + r.fec().deviceSize() + " [bytes]");
        }
    }

    static Map<String, Object> json(VerityResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uuid", r.uuid() == null ? null : r.uuid().toString());
        m.put("hashType", r.hashType());
        m.put("dataBlocks", r.dataBlocks());
        m.put("dataBlockSize", r.dataBlockSize());
        m.put("hashBlocks", r.hashBlocks());
        m.put("hashBlockSize", r.hashBlockSize());
        m.put("hashAlgorithm", r.hash().veritysetupName());
        m.put("salt", r.saltHex());
        m.put("rootHash", r.rootHashHex());
        m.put("hashOffset", r.hashOffset());
        m.put("hashStartBlock", r.hashStartBlock());
        m.put("levels", r.levels());
        m.put("hashDeviceSize", r.hashDeviceSize());
        if (r.fec() != null) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("roots", r.fec().roots());
            f.put("offset", r.fec().offset());
            f.put("blocks", r.fec().rsBlocks());
            f.put("deviceSize", r.fec().deviceSize());
            f.put("coveredBlocks", r.fec().coveredBlocks());
            m.put("fec", f);
        }
        return m;
    }

    /** What {@code veritysetup dump} prints. */
    static void dumpText(PrintWriter out, String hashName, VeritySuperblock sb) {
        out.println("VERITY header information for " + hashName);
        out.println("UUID:            \t" + sb.uuid());
        out.println("Hash type:       \t" + sb.hashType());
        out.println("Data blocks:     \t" + sb.dataBlocks());
        out.println("Data block size: \t" + sb.dataBlockSize());
        out.println("Hash block size: \t" + sb.hashBlockSize());
        out.println("Hash algorithm:  \t" + sb.algorithm());
        byte[] salt = sb.salt();
        out.println("Salt:            \t" + (salt.length == 0 ? "-" : HexFormat.of().formatHex(salt)));
    }

    static Map<String, Object> dumpJson(VeritySuperblock sb) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", sb.version());
        m.put("uuid", sb.uuid().toString());
        m.put("hashType", sb.hashType());
        m.put("dataBlocks", sb.dataBlocks());
        m.put("dataBlockSize", sb.dataBlockSize());
        m.put("hashBlockSize", sb.hashBlockSize());
        m.put("hashAlgorithm", sb.algorithm());
        byte[] salt = sb.salt();
        m.put("salt", salt.length == 0 ? "-" : HexFormat.of().formatHex(salt));
        return m;
    }

    static void printJson(PrintWriter out, Object value) {
        JsonOption.print(out, value);
    }
}
