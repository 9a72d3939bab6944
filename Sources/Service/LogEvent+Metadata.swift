import Logging

extension LogEvent {
    /// The metadata an entry carries: the handler's own, then the provider's, then the log
    /// call's, later ones winning, plus the attached error under the keys swift-log's own
    /// handlers use, so that the journal and stderr show the same fields.
    func effectiveMetadata(handler: Logger.Metadata, provider: Logger.MetadataProvider?) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return merged
    }
}
