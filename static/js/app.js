// app script
