import RigorStore
import RigorStorePostgres
import Testing

@Suite("PostgreSQL store locations")
struct PostgresLocationTests {
    @Test("a full URL is read field by field, and its description hides the password")
    func fullURL() throws {
        let location = try PostgresLocation(parsing: "postgresql://alice:s%40cret@db.example:6543/runs?sslmode=require&connect_timeout=3", environment: [:])
        #expect(location.host == "db.example" && location.port == 6543 && location.user == "alice")
        #expect(location.password == "s@cret" && location.database == "runs" && location.tls == .require)
        #expect(location.connectTimeoutSeconds == 3)
        #expect(location.description == "postgres://alice@db.example:6543/runs")
    }

    @Test("defaults come from the environment the way libpq takes them")
    func defaults() throws {
        let location = try PostgresLocation(parsing: "postgres://localhost", environment: ["PGUSER": "bob", "PGPASSWORD": "pw"])
        #expect(location.user == "bob" && location.password == "pw" && location.database == "bob" && location.port == 5432)
        #expect(location.tls == .disable)
    }

    @Test("malformed locations are typed errors that never echo the password", arguments: [
        "postgres://", "postgres://:5432/db", "postgres://u:hunter2@host:0/db", "postgres://u:hunter2@host:99999/db",
        "postgres://host/a/b", "postgres://host/db?sslmode=", "postgres://host/db?connect_timeout=0",
        "postgres://host/db?connect_timeout=9999", "postgres://host/db?x=1", "postgres://u:hunter2@ho\u{0}st/db",
        "LONG", "mysql://host/db", "postgres://[::1/db",
    ])
    func malformed(given: String) {
        // "LONG": a URL past the 4096-byte limit (spelt out here, not in every log line).
        let text = given == "LONG" ? "postgres://host/" + String(repeating: "d", count: 5000) : given
        do {
            _ = try PostgresLocation(parsing: text, environment: [:])
            Issue.record("accepted \(text)")
        } catch {
            guard case .invalidLocation(let shown, let why) = error else { Issue.record("got \(error)"); return }
            #expect(!shown.contains("hunter2") && !why.contains("hunter2"))
            #expect(!error.description.isEmpty)
        }
    }
}
