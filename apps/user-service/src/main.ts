import { hello } from '@te/platform';
console.log(hello('user-service'));
