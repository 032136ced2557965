package server

import _ "embed"

// openAPI is the OpenAPI 3 document of the REST API, served at
// /openapi.json; docs/rest-api.json is a copy (a test keeps them equal).
//
//go:embed openapi.json
var openAPI []byte
