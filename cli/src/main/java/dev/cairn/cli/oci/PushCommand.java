package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci push}. */
@Command(name = "push", mixinStandardHelpOptions = true,
        description = {"Push an image or artifact from a layout to a registry.",
                "Blobs the registry has are skipped; manifests go byte-exact; an artifact's subject is recorded in the referrers fallback tag (sha256-<hex>)",
                "when the registry has no referrers API. Exit 5 on registry or network errors."})
final class PushCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT:TAG")
    String source;
    @Parameters(index = "1", paramLabel = "REGISTRY/REPOSITORY:TAG")
    String destination;
    @picocli.CommandLine.Option(names = "--referrers",
            description = "Also push what refers to the image in the layout: notation and sigstore-bundle signatures, artifacts made with --subject, and cosign's sha256-<hex>.sig/.att/.sbom tags.")
    boolean referrers;
    @Mixin
    RegistryOptions registry;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        LayoutRef src = LayoutRef.parse(source, true);
        RegistryReference dest = RegistryReference.parse(destination);
        OciLayout layout = OciLayout.open(src.layout());
        var client = registry.client(dest.registry(), System.in);
        ImageTransfer.TransferResult r;
        try (TransferProgressLine progress = TransferProgressLine.start(spec.commandLine().getErr(), json.enabled())) {
            r = ImageTransfer.push(layout, src.tag(), client, dest, progress.listener());
            if (referrers) {
                ImageTransfer.TransferResult rr = ImageTransfer.pushReferrers(layout, r.root().digest(), client, dest, progress.listener());
                r = new ImageTransfer.TransferResult(r.root(), r.blobsSent() + rr.blobsSent(), r.blobsSkipped() + rr.blobsSkipped(),
                        r.blobsMounted() + rr.blobsMounted(), r.bytesSent() + rr.bytesSent(), r.manifests() + rr.manifests());
            }
        } catch (RegistryException e) {
            throw new CairnException(ExitCode.REGISTRY, "push to " + dest + " failed: " + e.getMessage(), e);
        }
        print(spec, json, "Pushed", dest.toString(), r, client.retries());
        return 0;
    }

    static void print(CommandLine.Model.CommandSpec spec, JsonOption json, String verb, String where,
                      ImageTransfer.TransferResult r, int retries) {
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reference", where);
            m.put("digest", r.root().digest().toString());
            m.put("mediaType", r.root().mediaType());
            m.put("blobsTransferred", r.blobsSent());
            m.put("blobsSkipped", r.blobsSkipped());
            m.put("blobsMounted", r.blobsMounted());
            m.put("bytesTransferred", r.bytesSent());
            m.put("manifests", r.manifests());
            m.put("retries", retries);
            JsonOption.print(spec.commandLine().getOut(), m);
        } else {
            spec.commandLine().getOut().println(verb + " " + where + "@" + r.root().digest() + ": " + r.blobsSent() + " blobs ("
                    + r.bytesSent() + " bytes) transferred, " + r.blobsSkipped() + " already present, "
                    + (r.blobsMounted() > 0 ? r.blobsMounted() + " mounted, " : "") + r.manifests()
                    + (r.manifests() == 1 ? " manifest" : " manifests") + (retries > 0 ? ", " + retries + " retries" : ""));
        }
    }
}
