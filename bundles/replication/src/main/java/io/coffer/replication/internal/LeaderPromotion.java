package io.coffer.replication.internal;

import java.util.Dictionary;
import java.util.EnumSet;
import java.util.Hashtable;

import org.apache.karaf.features.FeaturesService;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.replication.Promoter;
import io.coffer.api.replication.ReplicationStrategy;

/**
 * The one promotion path, for {@code coffer:promote} and for election: promote the database, make the role
 * {@code leader} in place (ConfigAdmin; {@code NodeComponent} applies it with {@code @Modified}) and install the
 * write side with {@code NoAutoRefreshBundles}, so no core bundle restarts.
 */
@Component(service = Promoter.class)
public class LeaderPromotion implements Promoter {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderPromotion.class);

    private final ReplicationStrategy replication;
    private final NodeIdentity node;
    // Optional so the bundle needs no capability for them; Karaf always runs both.
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ConfigurationAdmin configAdmin;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile FeaturesService features;

    @Activate
    public LeaderPromotion(@Reference ReplicationStrategy replication, @Reference NodeIdentity node) {
        this.replication = replication;
        this.node = node;
    }

    @Override
    public synchronized void promoteToLeader() {
        if (node.role() == NodeRole.LEADER) {
            throw new IllegalStateException("node " + node.name() + " is already the Leader");
        }
        ConfigurationAdmin ca = configAdmin;
        FeaturesService fs = features;
        if (ca == null || fs == null) {
            throw new IllegalStateException("configuration or features service not available: can't promote now");
        }
        long t0 = System.nanoTime();
        replication.promote();
        long promoted = System.nanoTime();
        try {
            // The write side first, the role last: once the role says leader (and /health/leader answers 200) the
            // write routes exist.
            installWriteSide(fs);
            setRole(ca, NodeRole.LEADER);
        } catch (Exception e) {
            throw new IllegalStateException("the database was promoted but the node could not become the Leader: "
                    + e.getMessage(), e);
        }
        LOG.info("node {} is the Leader: database promoted in {} ms, write side and role in {} ms", node.name(),
                (promoted - t0) / 1_000_000, (System.nanoTime() - promoted) / 1_000_000);
    }

    @Override
    public synchronized void prepare() {
        FeaturesService fs = features;
        if (fs == null) {
            throw new IllegalStateException("features service not available");
        }
        try {
            if (installWriteSide(fs)) {
                LOG.info("node {}: write side installed ahead of a promotion (closed while the role is {})",
                        node.name(), node.role().id());
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not install the write side: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void demoteToStandby() {
        ConfigurationAdmin ca = configAdmin;
        if (ca == null) {
            throw new IllegalStateException("configuration service not available: can't demote now");
        }
        try {
            setRole(ca, NodeRole.STANDBY);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("could not demote: " + e.getMessage(), e);
        }
        LOG.warn("node {} demoted to standby: another node leads; its API is closed until it rejoins", node.name());
    }

    private static void setRole(ConfigurationAdmin ca, NodeRole role) throws java.io.IOException {
        Configuration cfg = ca.getConfiguration("io.coffer.node", null);
        Dictionary<String, Object> props = cfg.getProperties() != null ? cfg.getProperties() : new Hashtable<>();
        props.put("role", role.id());
        cfg.update(props);
    }

    /** @return true when it was installed now, false when it already was */
    private static boolean installWriteSide(FeaturesService fs) throws Exception {
        org.apache.karaf.features.Feature write = fs.getFeature("coffer-write");
        if (write != null && fs.isInstalled(write)) {
            return false;
        }
        fs.installFeature("coffer-write", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        return true;
    }
}
