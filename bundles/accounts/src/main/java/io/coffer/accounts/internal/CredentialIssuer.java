package io.coffer.accounts.internal;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.authn.Credentials;
import io.coffer.api.crypto.Sealer;

/** Issues API keys for roles created by policy loads (and host factories later). */
@Component(service = Credentials.class)
public class CredentialIssuer implements Credentials {
    private final Sealer sealer;

    @Activate
    public CredentialIssuer(@Reference Sealer sealer) {
        this.sealer = sealer;
    }

    @Override
    public String issue(Connection c, String roleId, List<String> restrictedTo) throws SQLException {
        for (String cidr : restrictedTo) {
            if (!cidr.matches("[0-9a-fA-F:.]+(/[0-9]{1,3})?")) {
                throw new IllegalArgumentException("invalid restricted_to '" + cidr + "'");
            }
        }
        String key = ApiKeys.generate();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO credentials(role_id, api_key, restricted_to) VALUES (?, ?, ?::cidr[])")) {
            ps.setString(1, roleId);
            ps.setBytes(2, sealer.seal(key.getBytes(StandardCharsets.US_ASCII), roleId));
            ps.setString(3, "{" + String.join(",", restrictedTo) + "}");
            ps.executeUpdate();
        }
        return key;
    }

    @Override
    public String rotate(Connection c, String roleId) throws SQLException {
        String key = ApiKeys.generate();
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE credentials SET api_key = ?, updated_at = now() WHERE role_id = ?")) {
            ps.setBytes(1, sealer.seal(key.getBytes(StandardCharsets.US_ASCII), roleId));
            ps.setString(2, roleId);
            if (ps.executeUpdate() != 1) {
                throw new IllegalArgumentException("no credentials for " + roleId);
            }
        }
        return key;
    }
}
