// RigorSpec's users see the JSON value type as part of it.
@_exported import RigorJSON
