// Applies SCRAM users and ACLs to the Kafka cluster through Kafka's own Admin API, in one JVM start.
// aiokafka has no ACL or SCRAM calls, and one kafka-acls/kafka-configs run per grant would start
// a JVM each time. Reads lines from standard input so passwords never appear on a command line:
//   user <name> <password>
//   acl <principal> <resource-type> <pattern-type> <resource-name> <operation>
// The first argument is a client properties file for a super-user.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public final class AccessAdmin {
    private static final int SCRAM_ITERATIONS = 8192;

    private AccessAdmin() {}

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) {
            props.load(in);
        }
        List<UserScramCredentialAlteration> users = new ArrayList<>();
        List<AclBinding> acls = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            String[] f = line.trim().split("\\s+");
            if (f[0].isEmpty()) {
                continue;
            }
            if (f[0].equals("user") && f.length == 3) {
                ScramCredentialInfo info = new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS);
                users.add(new UserScramCredentialUpsertion(f[1], info, f[2]));
            } else if (f[0].equals("acl") && f.length == 6) {
                ResourcePattern resource = new ResourcePattern(
                    ResourceType.fromString(f[2].toUpperCase(Locale.ROOT)), f[4],
                    PatternType.fromString(f[3].toUpperCase(Locale.ROOT)));
                AccessControlEntry entry = new AccessControlEntry(
                    f[1], "*", AclOperation.fromString(f[5].toUpperCase(Locale.ROOT)), AclPermissionType.ALLOW);
                acls.add(new AclBinding(resource, entry));
            } else {
                // Never echo the line: it may hold a password.
                throw new IllegalArgumentException("unrecognised line starting with: " + f[0]);
            }
        }
        try (Admin admin = Admin.create(props)) {
            if (!users.isEmpty()) {
                admin.alterUserScramCredentials(users).all().get();
            }
            if (!acls.isEmpty()) {
                admin.createAcls(acls).all().get();
            }
        }
        System.out.println("applied " + users.size() + " users and " + acls.size() + " ACLs");
    }
}
