/// What a connection's exported objects share with it: the objects by path (for the child
/// nodes introspection lists and for checking emitted signals) and the loop the connection
/// runs on (where replies given on other threads are sent from).
final class ObjectRegistry {
    var loop: EventLoop?
    private(set) var interfaces: [String: [BusInterfaceDescription]] = [:]

    func add(path: String, interfaces descriptions: [BusInterfaceDescription]) {
        interfaces[path] = descriptions
    }

    func description(path: String, interface: String) -> BusInterfaceDescription? {
        interfaces[path]?.first { $0.name == interface }
    }

    /// The names of the nodes directly below `path` that lead to an exported object, as
    /// `<node name=…>` lists them.
    func children(of path: String) -> [String] {
        let prefix = path == "/" ? "/" : path + "/"
        var names = Set<String>()
        for exported in interfaces.keys where exported.hasPrefix(prefix) && exported != path {
            let rest = exported.dropFirst(prefix.count)
            if let first = rest.split(separator: "/").first {
                names.insert(String(first))
            }
        }
        return names.sorted()
    }
}
