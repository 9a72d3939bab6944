import FoundationEssentials

/// `tandem.conf.d/*.conf` drop-ins, found the way systemd finds its `*.conf.d` files: the same
/// name in several directories is one drop-in, taken from the first directory that has it, and
/// all drop-ins apply in lexical order of their names. An empty file, or a symlink to
/// /dev/null, therefore masks the same name in the later directories: it wins and says nothing.
enum ConfigurationDropIns {
    /// Most important first: the administrator's, then the runtime's, then the vendor's.
    static let defaultDirectories = ["/etc/tandem/tandem.conf.d", "/run/tandem/tandem.conf.d",
                                     "/usr/lib/tandem/tandem.conf.d"]

    /// The drop-in directories for a main file: the standard ones for the default path, else
    /// `PATH.d` beside a file named on the command line, so tests and images stay self-contained.
    static func directories(forMainFile path: String) -> [String] {
        path == Configuration.defaultPath ? defaultDirectories : [path + ".d"]
    }

    /// The paths to read, in the order they apply. A missing directory has no drop-ins.
    static func files(in directories: [String]) -> [String] {
        var chosen: [String: String] = [:]
        for directory in directories {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names where name.hasSuffix(".conf") && !name.hasPrefix(".") && chosen[name] == nil {
                chosen[name] = directory + "/" + name
            }
        }
        return chosen.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .compactMap { chosen[$0] }
            .filter { !isSymlinkToDevNull($0) }
    }

    /// A mask that has nothing to read: /dev/null is not a file Foundation reads as text.
    private static func isSymlinkToDevNull(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == "/dev/null"
    }
}
