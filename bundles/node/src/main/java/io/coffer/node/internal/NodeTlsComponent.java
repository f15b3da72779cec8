package io.coffer.node.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.net.NodeTls;

/** The node's certificate and the cluster CA, as the launcher and enrolment leave them in {@code etc/tls}. */
@Component(service = NodeTls.class, configurationPid = NodeTlsComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = NodeTlsComponent.Config.class)
public class NodeTlsComponent implements NodeTls {
    static final String PID = "io.coffer.node.tls";

    @ObjectClassDefinition(name = "Coffer node certificate", description = "Key and trust for links between nodes")
    public @interface Config {
        @AttributeDefinition(description = "PKCS#12 keystore with the node's key; empty = ${karaf.base}/etc/tls/node.p12")
        String keystore() default "";

        @AttributeDefinition(description = "File with the keystore's password; empty = ${karaf.base}/secrets/tls.password")
        String password_file() default "";

        @AttributeDefinition(description = "The cluster CA (PEM), the only trust anchor; empty = ${karaf.base}/etc/tls/ca.pem")
        String ca() default "";
    }

    private volatile Path keystore;
    private volatile Path passwordFile;
    private volatile Path ca;

    @Activate
    public NodeTlsComponent(Config config) {
        modified(config);
    }

    @Modified
    void modified(Config config) {
        Path base = Path.of(System.getProperty("karaf.base", "."));
        keystore = config.keystore().isBlank() ? base.resolve("etc/tls/node.p12") : Path.of(config.keystore());
        passwordFile = config.password_file().isBlank() ? base.resolve("secrets/tls.password")
                : Path.of(config.password_file());
        ca = config.ca().isBlank() ? base.resolve("etc/tls/ca.pem") : Path.of(config.ca());
    }

    @Override
    public SSLContext context() throws IOException, GeneralSecurityException {
        char[] password = Files.readString(passwordFile, StandardCharsets.UTF_8).trim().toCharArray();
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                keys.load(in, password);
            }
            // Only the node's own key entry: the keystore also holds the CA certificate, which is no key to present.
            KeyStore own = KeyStore.getInstance("PKCS12");
            own.load(null, null);
            for (String alias : java.util.Collections.list(keys.aliases())) {
                if (keys.isKeyEntry(alias)) {
                    own.setKeyEntry(alias, keys.getKey(alias, password), password, keys.getCertificateChain(alias));
                }
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(own, password);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(ca)) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLSv1.3");
            ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ssl;
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    @Override
    public String peerName(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
                return null;
            }
            String cn = null;
            for (Rdn rdn : new LdapName(((X509Certificate) chain[0]).getSubjectX500Principal().getName()).getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    if (cn != null) {
                        return null; // two CNs: which one names the node is anyone's guess
                    }
                    cn = rdn.getValue().toString();
                }
            }
            return cn != null && cn.matches("[A-Za-z0-9_-]{1,63}") ? cn : null;
        } catch (SSLPeerUnverifiedException | InvalidNameException e) {
            return null;
        }
    }
}
