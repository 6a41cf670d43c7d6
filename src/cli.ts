console.log("schedctl");
