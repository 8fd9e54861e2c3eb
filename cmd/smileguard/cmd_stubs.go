package main

func runVerify(e *env, args []string) int  { return 0 }
func runSign(e *env, args []string) int    { return 0 }
func runKeys(e *env, args []string) int    { return 0 }
func runVersion(e *env, args []string) int { return 0 }
