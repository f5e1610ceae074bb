package weights

// AppendJSONString is appendJSONString, for head_test.go.
var AppendJSONString = appendJSONString
