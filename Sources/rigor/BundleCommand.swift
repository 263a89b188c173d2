import ArgumentParser
import Crypto
import Foundation
import RigorRunner
import RigorSpec
import RigorStore

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Seal a run into one portable, self-verifying file; verify it; replay it anywhere.",
        subcommands: [Seal.self, Verify.self, ReplayBundle.self])

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal",
            abstract: "Write a bundle: artifact, task folder, agent (and SDK), manifest of hashes, optional Ed25519 signature.",
            discussion: "The bundle is verified again after it is written, and the seal is entered in the ledger.")
        @Argument(help: ArgumentHelp("Run id, prefix or latest.", valueName: "run")) var runRef: String
        @Option(help: ArgumentHelp("Sign with this private key (from `rigor keys generate`).", valueName: "keyfile")) var sign: String?
        @Option(name: [.short, .customLong("out")], help: ArgumentHelp("Where to write it (default: .rigor/bundles/<run_id>.rigorbundle).", valueName: "file")) var out: String?
        @Option(name: .customLong("output"), help: .hidden) var output: String?
        /// `--out`, or its old name `--output`.
        var outFile: String? { out ?? output }
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let workspace = try workspaceOptions.workspace
            do {
                var key: Curve25519.Signing.PrivateKey? = nil
                if let sign { key = try SigningKeys.privateKey(sign) }
                let store = try workspace.store(create: false)
                let artifact: JSON
                do { artifact = try store.artifact(try store.resolve(runRef)) } catch { throw RunnerError.store(error) }
                let sealed = try RigorRunner.Bundle.sealToFile(artifact, workspace: workspace, store: store, signingKey: key, output: outFile)
                if json {
                    Console.printJSON(["bundle": .string(sealed.path), "sha256": .string(sealed.sha256), "signed": .bool(key != nil)])
                } else {
                    Console.line("sealed \(sealed.path)  \(Console.dim(sealed.sha256))\(key != nil ? "  (signed)" : "")")
                }
            } catch let e as RunnerError { throw Console.fail(e) }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute every hash in a bundle and check its signature.",
            discussion: "Exit 0 intact, 1 when any check fails, 2 when the file cannot be read at all.")
        @Argument(help: ArgumentHelp("The bundle file.", valueName: "file")) var file: String
        @Option(help: ArgumentHelp("Require a signature by this public key (file or hex).", valueName: "key")) var pubkey: String?
        @Flag(help: "Print JSON.") var json = false

        /// What was proven about the signature: with --pubkey, that this key signed it; without,
        /// only that the bundle is self-consistent (whoever signed it, or unsigned).
        func signatureState(_ bundle: RigorRunner.Bundle?) -> String {
            guard let bundle, case .object = bundle.signature else { return "unsigned" }
            return pubkey != nil ? "verified" : "not_checked"
        }

        func check() throws(RunnerError) -> ([String], RigorRunner.Bundle?) {
            var trusted: Curve25519.Signing.PublicKey? = nil
            if let pubkey { trusted = try SigningKeys.publicKey(pubkey) }
            do {
                let bundle = try RigorRunner.Bundle.load(file)
                return (bundle.verify(trustedKey: trusted), bundle)
            } catch {
                // Unreadable content is a failed verification, not bad usage.
                if case .damaged(let m) = error { return ([m], nil) }
                throw .usage(error.description)
            }
        }

        func run() throws {
            let problems: [String]
            let bundle: RigorRunner.Bundle?
            do { (problems, bundle) = try check() } catch { throw Console.fail(error) }
            let signature = signatureState(bundle)
            if json {
                Console.printJSON(["file": .string(file), "ok": .bool(problems.isEmpty), "signature": .string(signature),
                                   "problems": .array(problems.map(JSON.string))])
            } else if problems.isEmpty {
                let note: String
                switch signature {
                case "verified": note = ", signature verified with the given public key"
                case "unsigned": note = Console.yellow("; the bundle is not signed: nothing says who made it")
                default: note = Console.yellow("; the signature was NOT checked against a key you trust (pass --pubkey KEY): anyone could have re-signed it")
                }
                Console.line("\(Console.green("OK")) \(file): every hash recomputes\(note)")
            } else {
                Console.line("\(Console.red("FAIL")) \(file)")
                for p in problems { Console.line("  - \(p)") }
            }
            if !problems.isEmpty { throw CLIExit(code: .failed) }
        }
    }

    struct ReplayBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Re-run a bundle from the bundle alone, in an empty directory, and compare.",
            discussion: "Exit 0 reproduced, 1 not, 2 bad input.")
        @Argument(help: ArgumentHelp("The bundle file.", valueName: "file")) var file: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let report: ReplayReport
            do {
                report = try RigorRunner.Bundle.read(file).replayInTemporaryDirectory()
            } catch { throw Console.fail(error) }
            if json { Console.printJSON(report.json) } else { ReplayPrinter.print(report) }
            if report.status != .reproduced { throw CLIExit(code: .failed) }
        }
    }
}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Ed25519 keys for signing bundles and IntentProof exports.",
                                                    subcommands: [Generate.self, Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the public half of the project's signing key (made on first use).",
            discussion: """
                The project's key is .rigor/keys/rigor-ed25519.key (mode 600), the one `rigor \
                export intentproof` signs with unless given --key. Give the public key (hex or \
                base64, as printed) to whoever runs `rigor verify --intentproof FILE --pubkey PUB`.
                """)
        @Option(help: ArgumentHelp("Show this private key file's public half instead of the project's.", valueName: "key")) var key: String?
        @Flag(help: "Print JSON (public_key_hex, public_key_base64, key_id, path).") var json = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let stateDirectory = try workspaceOptions.workspace.stateDirectory
            let signer: IntentProofSigner
            do { signer = try IntentProofKeyFile.signer(keyFile: key, stateDirectory: stateDirectory) } catch { throw Console.fail(error) }
            let path = key ?? "\(stateDirectory)/\(IntentProofKeyFile.fileName)"
            let pub = signer.publicKey
            if json {
                Console.printJSON(["public_key_hex": .string(Digest.hex(pub.raw)), "public_key_base64": .string(pub.base64),
                                   "key_id": .string(pub.keyID), "path": .string(path)])
            } else {
                print("public key \(Digest.hex(pub.raw))\nbase64     \(pub.base64)\nkey_id     \(pub.keyID)\nprivate    \(path)")
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write a new key pair: PREFIX.key (private, mode 600) and PREFIX.pub.")
        @Option(help: ArgumentHelp("Path prefix (default: .rigor/keys/rigor-ed25519).", valueName: "prefix")) var out: String?
        @Flag(help: "Replace existing key files.") var force = false
        @OptionGroup var workspaceOptions: WorkspaceOptions

        func run() throws {
            let stateDirectory = try workspaceOptions.workspace.stateDirectory
            let prefix = out ?? "\(stateDirectory)/keys/rigor-ed25519"
            if !force && FileManager.default.fileExists(atPath: "\(prefix).key") {
                throw Console.fail(.usage("\(prefix).key exists; pass --force to replace it, or --out another prefix"))
            }
            let publicHex: String
            do { publicHex = try SigningKeys.generate(prefix: prefix) } catch { throw Console.fail(error) }
            print("private key \(prefix).key (keep it secret)\npublic key  \(prefix).pub  \(publicHex)")
        }
    }
}
