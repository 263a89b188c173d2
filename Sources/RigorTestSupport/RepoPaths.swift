import Foundation
import RigorRunner

/// Paths of the repository and the built products, for tests that drive the real thing.
public enum RepoPaths {
    /// The repository root, found from this source file's location.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var tasks: String { "\(root)/Tasks" }
    public static var agents: String { "\(root)/Agents" }
    public static var sdk: String { "\(root)/Agents/sdk" }
    public static var interop: String { "\(root)/../shared/interop/tracecore-1.1.3" }
    /// The IntentProof specification's schemas, golden cases, signing vectors and reference
    /// policies, copied unchanged into the repository (see its SOURCE.md).
    public static var intentProofSpec: String { "\(root)/Tests/Fixtures/intentproof-spec" }

    /// The directory of the built products (`rigor`, `rigor-swift-agent`), next to the test bundle.
    public static let productsDirectory: String = {
        let fm = FileManager.default
        // swift test runs with the products in .build/<triple>/debug; find the one with rigor in it.
        for candidate in [Bundle.main.bundleURL.path, Bundle.main.bundleURL.deletingLastPathComponent().path,
                          "\(root)/.build/debug", "\(root)/.build/release"] where fm.isExecutableFile(atPath: "\(candidate)/rigor") {
            return candidate
        }
        return "\(root)/.build/debug"
    }()

    public static var rigorBinary: String { "\(productsDirectory)/rigor" }
    public static var swiftAgent: String { "\(productsDirectory)/rigor-swift-agent" }

    public static func workspace(state: String) -> Workspace {
        Workspace(root: root, stateDirectory: state)
    }

    /// A fresh temporary directory, for state that must not leak between tests.
    public static func temporaryDirectory(_ label: String = "rigor-test") -> String {
        let path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
