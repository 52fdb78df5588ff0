module github.com/sundialhq/sundial

go 1.26
