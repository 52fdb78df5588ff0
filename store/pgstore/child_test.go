package pgstore_test

const childVar = "SUNDIAL_PG_CHILD"

func runChild() int { return 0 }
