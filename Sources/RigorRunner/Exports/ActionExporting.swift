import Foundation
import RigorSpec

extension Workspace {
    /// The action-trace export (spec/action-export.md) of runs named as `rigor diff` names
    /// them: artifact files, baseline files, run ids, unique prefixes or `latest`. Redacted with
    /// the workspace's redactor (the project's secrets and patterns, API-key variables of this
    /// process's environment) on top of the redaction each run had when it was sealed.
    public func actionExport(of references: [String],
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws(RunnerError) -> JSON {
        guard !references.isEmpty else { throw .usage("name at least one run: a run id, a unique prefix, 'latest', or an artifact file") }
        var locator = ArtifactLocator(stateDirectory: stateDirectory)
        var artifacts: [JSON] = []
        for reference in references { artifacts.append(try locator.locate(reference).artifact) }
        let document: JSON
        do { document = try ActionExport.document(artifacts, redactor: redactor(environment: environment)) } catch {
            throw .usage("cannot export: \(error.description)")
        }
        let problems = ActionExport.problems(document)
        guard problems.isEmpty else { throw .internal("the action export does not validate against its schema: \(problems.prefix(3).joined(separator: "; "))") }
        return document
    }

    /// The redactor for data that is not an episode's (no agent secrets).
    public func redactor(environment: [String: String] = ProcessInfo.processInfo.environment) -> Redactor {
        var r = Redactor()
        for name in project?.redactSecrets ?? [] { if let v = environment[name] { r.add(.init(name: name, value: v)) } }
        for name in environment.keys.sorted() where Redactor.isAPIKeyName(name) {
            if let v = environment[name], v.utf8.count >= 8 { r.add(.init(name: name, value: v)) }
        }
        for (id, regex) in (project?.redactPatterns ?? [:]).sorted(by: { $0.key < $1.key }) { r.add(pattern: .init(id: id, regex: regex)) }
        return r
    }
}
