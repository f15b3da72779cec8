package io.coffer.secrets.command;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.coffer.api.store.Database;

/** Completes the account (first argument), then that account's variable ids; at most 200 candidates. */
@Service
public class VariableCompleter implements Completer {
    @Reference
    private Database db;

    @Override
    public int complete(Session session, CommandLine line, List<String> candidates) {
        String[] args = line.getArguments();
        String typed = line.getCursorArgument() == null ? ""
                : line.getCursorArgument().substring(0, line.getArgumentPosition());
        String like = typed.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%";
        boolean account = line.getCursorArgumentIndex() <= 1;
        String sql = account ? "SELECT id FROM accounts WHERE id LIKE ? ESCAPE '\\' ORDER BY 1 LIMIT 200"
                : "SELECT identifier FROM resources WHERE account = ? AND kind = 'variable' AND identifier LIKE ? "
                        + "ESCAPE '\\' ORDER BY 1 LIMIT 200";
        StringsCompleter out = new StringsCompleter();
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (account) {
                ps.setString(1, like);
            } else {
                ps.setString(1, args[1]);
                ps.setString(2, like);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.getStrings().add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            return -1;
        }
        return out.complete(session, line, candidates);
    }

    static boolean exists(Database db, String resourceId) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT 1 FROM resources WHERE resource_id = ?")) {
            ps.setString(1, resourceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
