package connector

// LocalToInstant exposes localToInstant to the external tests.
var LocalToInstant = localToInstant
