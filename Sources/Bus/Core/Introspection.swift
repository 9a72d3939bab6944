/// The introspection XML of an exported object, generated from its descriptions so that what
/// `busctl introspect` shows is exactly what dispatch accepts.
enum Introspection {
    static func xml(interfaces: [BusInterfaceDescription], children: [String]) -> String {
        var xml = """
            <!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
            <node>

            """
        for interface in StandardInterfaces.all + interfaces {
            xml += element(interface)
        }
        for child in children {
            xml += " <node name=\"\(escaped(child))\"/>\n"
        }
        xml += "</node>\n"
        return xml
    }

    private static func element(_ interface: BusInterfaceDescription) -> String {
        var xml = " <interface name=\"\(escaped(interface.name))\">\n"
        for method in interface.methods {
            xml += "  <method name=\"\(escaped(method.name))\">\n"
            for argument in method.inputs {
                xml += "   <arg name=\"\(escaped(argument.name))\" type=\"\(escaped(argument.signature))\" direction=\"in\"/>\n"
            }
            for argument in method.outputs {
                xml += "   <arg name=\"\(escaped(argument.name))\" type=\"\(escaped(argument.signature))\" direction=\"out\"/>\n"
            }
            xml += "  </method>\n"
        }
        for signal in interface.signals {
            xml += "  <signal name=\"\(escaped(signal.name))\">\n"
            for argument in signal.arguments {
                xml += "   <arg name=\"\(escaped(argument.name))\" type=\"\(escaped(argument.signature))\"/>\n"
            }
            xml += "  </signal>\n"
        }
        for property in interface.properties {
            let opening = "  <property name=\"\(escaped(property.name))\" type=\"\(escaped(property.signature))\" access=\"read\""
            if let annotation = emitsChangedSignal(property.change) {
                xml += opening + ">\n"
                xml += "   <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" value=\"\(annotation)\"/>\n"
                xml += "  </property>\n"
            } else {
                xml += opening + "/>\n"
            }
        }
        xml += " </interface>\n"
        return xml
    }

    /// The annotation's value; nil for the spec's default ("true"), which needs no annotation.
    private static func emitsChangedSignal(_ change: BusInterfaceDescription.Property.ChangeSignal) -> String? {
        switch change {
        case .emits: nil
        case .invalidates: "invalidates"
        case .constant: "const"
        case .none: "false"
        }
    }

    /// Argument names are free text in a description, so they are escaped like any attribute.
    private static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
