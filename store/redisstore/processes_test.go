package redisstore_test

const childVar = "SUNDIAL_REDIS_CHILD"

func runChild() int { return 0 }
