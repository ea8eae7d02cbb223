package dev.cairn.maven;

import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.settings.Settings;
import org.apache.maven.settings.crypto.SettingsDecrypter;

/** A goal that reaches registries: credentials from the {@code settings.xml} server whose id is the registry, like jib. */
public abstract class AbstractRegistryMojo extends AbstractCairnMojo {
    @Parameter(defaultValue = "${settings}", readonly = true)
    private Settings settings;

    private final SettingsDecrypter settingsDecrypter;

    /** @param settingsDecrypter Maven's decrypter for {@code settings.xml} passwords (null: passwords as written) */
    protected AbstractRegistryMojo(SettingsDecrypter settingsDecrypter) {
        this.settingsDecrypter = settingsDecrypter;
    }

    /** Credentials by registry host, from the session's settings. */
    SettingsCredentials credentials() {
        return new SettingsCredentials(settings, settingsDecrypter);
    }
}
