package dev.cairn.maven;

import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryReference;
import dev.cairn.pipeline.BuildManifest;
import dev.cairn.pipeline.ImageSetBuilder;
import dev.cairn.pipeline.PipelineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import javax.inject.Inject;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.settings.Server;
import org.apache.maven.settings.crypto.SettingsDecrypter;

/**
 * {@code cairn:push}: pushes the set's OCI image in {@code outputDirectory}, with the UKI and policy
 * artifacts and the cosign signature that refer to it, to a registry, as {@code cairn build} does
 * for a spec's {@code outputs.push}. Credentials come from the {@code settings.xml} server whose id
 * is the reference's registry ({@code HOST} or {@code HOST:PORT}).
 */
@Mojo(name = "push", defaultPhase = LifecyclePhase.DEPLOY, threadSafe = true)
public class PushMojo extends AbstractRegistryMojo {
    /** Where to push: {@code HOST[:PORT]/REPOSITORY:TAG}. */
    @Parameter(property = "cairn.reference", required = true)
    private String reference;

    /** Registries ({@code HOST[:PORT]}) that may be reached over plain HTTP; loopback addresses always may. */
    @Parameter(property = "cairn.insecureRegistries")
    private List<String> insecureRegistries = new ArrayList<>();

    /** @param settingsDecrypter Maven's decrypter for {@code settings.xml} passwords */
    @Inject
    public PushMojo(SettingsDecrypter settingsDecrypter) {
        super(settingsDecrypter);
    }

    @Override
    String goal() {
        return "push";
    }

    @Override
    void run() throws IOException, MojoFailureException {
        Path dir = outputDirectory.toPath().toAbsolutePath().normalize();
        if (!Files.isRegularFile(dir.resolve(BuildManifest.FILE))) {
            throw new MojoFailureException(dir + ": no image set (no " + BuildManifest.FILE + "); cairn:build writes one");
        }
        RegistryReference destination = RegistryReference.parse(reference);
        SettingsCredentials credentials = credentials();
        Server server = credentials.server(destination.registry());
        if (server != null) {
            credentials.apply(destination.registry()); // a server entry that cannot be used fails here, before any upload
            getLog().info("Credentials for " + destination.registry() + " from settings.xml server '" + server.getId() + "'");
        } else {
            getLog().info("No settings.xml server with id " + destination.registry() + ": pushing anonymously");
        }
        RegistryClient.Options options = RegistryClient.Options.defaults(credentials)
                .withInsecureHosts(new HashSet<>(insecureRegistries));
        getLog().info("Pushing " + dir + " to " + destination);
        String pushed;
        try (RegistryClient client = new RegistryClient(options)) {
            pushed = ImageSetBuilder.push(dir, destination, client);
        } catch (PipelineException e) {
            if (server == null && e.kind() == PipelineException.Kind.REGISTRY) {
                throw new MojoFailureException(e.getMessage() + " (pushed anonymously: no settings.xml <server> has the id "
                        + destination.registry() + ")", e);
            }
            throw e;
        }
        getLog().info("Pushed " + pushed);
    }
}
